// The end-to-end section in a process of its own (run.ts starts it), so that its load generator
// and watcher start as fresh as the `npm start` they measure.
// argv[2]: the sizes as JSON; stdout: the section's rows as JSON.
import { endToEndSection, type EndToEndSizes } from './end-to-end';

async function main() {
  const sizes = JSON.parse(process.argv[2] ?? '') as EndToEndSizes;
  const rows = await endToEndSection(sizes);
  process.stdout.write(JSON.stringify(rows));
}

main().catch((err) => {
  process.stderr.write(`end-to-end section failed: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
