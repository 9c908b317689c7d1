'use strict';
// Loads one handler from an unpacked Lambda artifact the way the Lambda runtime does (the task
// root as working directory, nothing but the artifact to require from), invokes it once and prints
// the answer on a line of its own. It then exits, as a frozen container would keep its pools open.
// Usage: node invoke-artifact.cjs <unpacked dir> <handler, e.g. handlers/webhook.handler> <event JSON>
const path = require('node:path');

const [dir, handlerSpec, eventJson] = process.argv.slice(2);
const dot = handlerSpec.lastIndexOf('.');
const file = path.join(dir, `${handlerSpec.slice(0, dot)}.js`);
const exported = handlerSpec.slice(dot + 1);
const deadline = Date.now() + 60_000;
const context = {
  awsRequestId: 'artifact-test-request',
  functionName: 'artifact-test',
  functionVersion: '$LATEST',
  memoryLimitInMB: '512',
  getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
};

const print = (line, code) => process.stdout.write(`\n${line}\n`, () => process.exit(code));
process.chdir(dir);
Promise.resolve()
  .then(() => require(file)[exported](JSON.parse(eventJson), context))
  .then(
    (result) => print(`RESULT ${JSON.stringify(result)}`, 0),
    (err) => print(`ERROR ${JSON.stringify({ name: err && err.name, message: err && err.message })}`, 1),
  );
