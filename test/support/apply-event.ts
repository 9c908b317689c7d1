import type { DataSource } from 'typeorm';
import { processBatch } from '../../src/pipeline/process-batch';
import type { ProcessOptions, ProcessResult } from '../../src/pipeline/types';

/**
 * One message through the pipeline as a batch of one, the way a lone receive is applied: its
 * result, or the error its outcome carries (thrown, so a test can expect a rejection).
 */
export async function applyEvent(ds: DataSource, body: string, options: ProcessOptions = {}, message: { force?: boolean } = {}): Promise<ProcessResult> {
  const [outcome] = await processBatch(ds, [{ body, force: message.force === true }], options);
  if (!outcome!.ok) throw outcome!.error;
  return outcome!.result;
}
