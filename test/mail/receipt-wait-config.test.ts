// RECEIPT_WAIT_SECONDS: how long a receipt (invoice_paid) waits for the charge whose receipt link
// it carries. Validated like the other settings: a whole number of seconds, 0 to 3600.
import { ConfigError, loadConfig } from '../../src/config';

describe('RECEIPT_WAIT_SECONDS', () => {
  it('is 120 seconds by default, and takes what it is given', () => {
    expect(loadConfig({}).mail.receiptWaitSeconds).toBe(120);
    expect(loadConfig({ RECEIPT_WAIT_SECONDS: '0' }).mail.receiptWaitSeconds).toBe(0);
    expect(loadConfig({ RECEIPT_WAIT_SECONDS: ' 600 ' }).mail.receiptWaitSeconds).toBe(600);
    expect(loadConfig({ RECEIPT_WAIT_SECONDS: '3600' }).mail.receiptWaitSeconds).toBe(3600);
  });

  it.each([
    ['-1', /RECEIPT_WAIT_SECONDS: must be at least 0/],
    ['3601', /RECEIPT_WAIT_SECONDS: must be at most 3600/],
    ['1.5', /RECEIPT_WAIT_SECONDS: must be a whole number/],
    ['two minutes', /RECEIPT_WAIT_SECONDS: must be a whole number/],
    ['', /RECEIPT_WAIT_SECONDS: must be a whole number/],
  ])('refuses %j, naming the variable', (value, message) => {
    expect(() => loadConfig({ RECEIPT_WAIT_SECONDS: value })).toThrow(ConfigError);
    expect(() => loadConfig({ RECEIPT_WAIT_SECONDS: value })).toThrow(message);
  });
});
