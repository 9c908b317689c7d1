// Scenarios run one at a time in a fixed order, the secrets check last: it reads the logs of all
// the others.
const Sequencer = require('@jest/test-sequencer').default;

const ORDER = ['crashes', 'webhook-kill', 'database-outage', 'queue-outage', 'mail-server', 'fuzz', 'soak', 'secrets'];
const rank = (p) => {
  const i = ORDER.findIndex((name) => p.includes(`/${name}.test.ts`));
  return i === -1 ? ORDER.indexOf('secrets') - 0.5 : i;
};

module.exports = class FaultSequencer extends Sequencer {
  sort(tests) {
    return [...tests].sort((a, b) => rank(a.path) - rank(b.path));
  }
};
