import fc from 'fast-check';
import t from 'tap';
import { DecimalError } from '../../engine/errors.js';
import { decimalToUnits, parseDecimal, unitsToDecimal } from '../../gateway/symbols/decimal.js';

t.test('exact conversions', async (t) => {
  t.equal(decimalToUnits('50000.00', '0.01'), 5_000_000);
  t.equal(decimalToUnits('50000', '0.01'), 5_000_000);
  t.equal(decimalToUnits('50000.01', '0.01'), 5_000_001);
  t.equal(decimalToUnits('1.0', '0.0001'), 10_000);
  t.equal(decimalToUnits('0.3', '0.1'), 3, 'no 0.1+0.2 surprises');
  t.equal(decimalToUnits('-2.50', '0.5'), -5);
  t.equal(decimalToUnits('25', '5'), 5);
  t.equal(unitsToDecimal(5_000_001, '0.01'), '50000.01');
  t.equal(unitsToDecimal(5, '0.01'), '0.05');
  t.equal(unitsToDecimal(-5, '0.5'), '-2.5');
  t.equal(unitsToDecimal(3, '5'), '15');
  t.same(parseDecimal('12.340'), { mantissa: 12340n, scale: 3 });
});

t.test('rejects what is not exact or not safe', async (t) => {
  t.throws(() => decimalToUnits('50000.001', '0.01'), {
    name: 'DecimalError',
    message: /not a multiple of "0.01"/,
  });
  t.throws(() => decimalToUnits('1e5', '1'), DecimalError);
  t.throws(() => decimalToUnits('', '1'), DecimalError);
  t.throws(() => decimalToUnits(' 1', '1'), DecimalError);
  t.throws(() => decimalToUnits('1.', '1'), DecimalError);
  t.throws(() => decimalToUnits('0x10', '1'), DecimalError);
  t.throws(() => decimalToUnits('1'.repeat(41), '1'), DecimalError);
  t.throws(() => decimalToUnits('9007199254740992', '1'), { message: /out of range/ });
  t.throws(() => decimalToUnits('1', '0'), { message: /increment must be positive/ });
  t.throws(() => unitsToDecimal(0.5, '1'), DecimalError);
  t.throws(() => decimalToUnits(42 as unknown as string, '1'), DecimalError);
});

t.test('property: units -> decimal -> units is the identity', async (t) => {
  const increments = ['1', '0.1', '0.01', '0.0001', '0.00000001', '5', '0.25'];
  fc.assert(
    fc.property(fc.integer({ min: -1e12, max: 1e12 }), fc.constantFrom(...increments), (units, inc) => {
      return decimalToUnits(unitsToDecimal(units, inc), inc) === units;
    }),
    { seed: 42, numRuns: 2000 },
  );
  t.pass('2000 runs, seed 42');
});
