import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findEmbeddedSqs, registerEmbeddedSqs } from '../../src/embedded/embedded-sqs-registry';

const queue = { endpoint: 'http://127.0.0.1:1', queueUrl: 'http://127.0.0.1:1/q', dlqUrl: 'http://127.0.0.1:1/dlq' };

describe('the embedded queue registry', () => {
  it("is removed on stop only while it is still this process's entry", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'billing-registry-'));
    try {
      const unregister = await registerEmbeddedSqs(dir, queue);
      expect(await findEmbeddedSqs(dir)).toMatchObject({ pid: process.pid, ...queue });
      // Another process's queue, registered since.
      const theirs = JSON.stringify({ pid: process.ppid, endpoint: 'http://127.0.0.1:2', queueUrl: 'q2', dlqUrl: 'd2' });
      fs.writeFileSync(path.join(dir, 'embedded-sqs.json'), theirs);
      await unregister();
      expect(fs.readFileSync(path.join(dir, 'embedded-sqs.json'), 'utf8')).toBe(theirs);

      const again = await registerEmbeddedSqs(dir, queue);
      await again();
      expect(fs.existsSync(path.join(dir, 'embedded-sqs.json'))).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('finding the queue of a running process', () => {
  it('does not take a later process that reuses the pid for the one that registered', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'billing-registry-'));
    try {
      await registerEmbeddedSqs(dir, queue);
      const file = path.join(dir, 'embedded-sqs.json');
      const entry = JSON.parse(fs.readFileSync(file, 'utf8'));
      expect(entry.startTicks).toEqual(expect.stringMatching(/^\d+$/));
      // The same pid, started at another moment: another process.
      fs.writeFileSync(file, JSON.stringify({ ...entry, startTicks: String(Number(entry.startTicks) + 1) }));
      expect(await findEmbeddedSqs(dir)).toBeNull();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
