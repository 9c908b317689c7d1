import { ConfigError, loadConfig } from '../../src/config';
import { formatBytes, processedBeforeOption } from '../../src/commands/events';
import { UsageError } from '../../src/commands/usage';
import { retentionCutoff } from '../../src/sweep/event-payload-retention';

const NOW = 1_800_000_000;
const ago = (seconds: number) => new Date((NOW - seconds) * 1000);

describe('--processed-before', () => {
  it.each([
    ['90d', 90 * 86_400],
    ['12h', 12 * 3600],
    ['2w', 14 * 86_400],
    ['1h', 3600],
    [' 30d ', 30 * 86_400],
    ['36500d', 36_500 * 86_400],
  ])('%p is that long before now', (raw, seconds) => {
    expect(processedBeforeOption(raw, NOW)).toEqual(ago(seconds));
  });

  it.each(['banana', '0d', '0h', '-3d', '90', 'd', '1.5d', '90D', '90 d', '3m', '36501d', '5300w', '', '999999999999d', '1e3d'])('refuses %p, naming the option and the form', (raw) => {
    expect(() => processedBeforeOption(raw, NOW)).toThrow(UsageError);
    expect(() => processedBeforeOption(raw, NOW)).toThrow(/^--processed-before: an age like 90d, 12h or 2w/);
  });

  it('is required', () => {
    expect(() => processedBeforeOption(undefined, NOW)).toThrow(/--processed-before is required/);
  });
});

describe('EVENT_PAYLOAD_RETENTION_DAYS', () => {
  it('unset or empty keeps payloads; a number of days sets the sweep’s retention', () => {
    expect(loadConfig({}).eventPayloadRetentionDays).toBeUndefined();
    expect(loadConfig({ EVENT_PAYLOAD_RETENTION_DAYS: '' }).eventPayloadRetentionDays).toBeUndefined();
    expect(loadConfig({ EVENT_PAYLOAD_RETENTION_DAYS: ' 90 ' }).eventPayloadRetentionDays).toBe(90);
    expect(loadConfig({ EVENT_PAYLOAD_RETENTION_DAYS: '36500' }).eventPayloadRetentionDays).toBe(36_500);
    expect(retentionCutoff(NOW, 90)).toEqual(ago(90 * 86_400));
  });

  it.each([
    ['0', /must be at least 1/],
    ['-5', /must be a whole number of days/],
    ['banana', /must be a whole number of days/],
    ['90d', /must be a whole number of days/],
    ['1.5', /must be a whole number of days/],
    ['36501', /must be at most 36500/],
  ])('refuses %p with a ConfigError naming the variable', (raw, message) => {
    expect(() => loadConfig({ EVENT_PAYLOAD_RETENTION_DAYS: raw })).toThrow(ConfigError);
    expect(() => loadConfig({ EVENT_PAYLOAD_RETENTION_DAYS: raw })).toThrow(/EVENT_PAYLOAD_RETENTION_DAYS: /);
    expect(() => loadConfig({ EVENT_PAYLOAD_RETENTION_DAYS: raw })).toThrow(message);
  });
});

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1536, '1.5 KiB'],
    [12.3 * 1024 * 1024, '12.3 MiB'],
    [3 * 1024 ** 3, '3.0 GiB'],
  ])('%p → %p', (n, text) => {
    expect(formatBytes(n)).toBe(text);
  });
});
