/**
 * The engine contract suites (written against the fast engine's `fastDriver`) run against the naive
 * ReferenceEngine: each suite is imported with `fastDriver` mocked to `referenceDriver`, so one
 * contract suite checks both implementations of `Engine` (house style: tests/"one contract suite").
 */
import t from 'tap';
import { referenceDriver } from '../fixtures/engine/referenceDriver.js';

const SUITES = ['basics', 'orderTypes', 'selfTrade', 'amendCancel', 'preTrade'];

for (const name of SUITES) {
  t.test(`${name} suite against the reference engine`, async (t) => {
    await t.mockImport(`./${name}.test.js`, {
      '../fixtures/engine/fastDriver.js': { fastDriver: referenceDriver },
    });
  });
}
