// Found by the fault suite's fuzz: an invoice id with spaces, quotes or angle brackets went into
// the Message-ID as it was, and broke the header a resent notice is recognised by.
import { noticeMessageId } from '../../src/mail/message-id';
import { deliverAll, drainOnce, finalizedEvent, noticeRows, openInvoice, useNoticeWorld } from '../notices/harness';

// RFC 5322 msg-id with dot-atom text on both sides.
const MSG_ID = /^<[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+>$/;
const notice = (stripe_invoice_id: string) => ({ id: '42', kind: 'invoice_issued', sequence: 0, stripe_invoice_id });

describe('noticeMessageId', () => {
  it('is unchanged for a Stripe-shaped id, so notices queued before keep their Message-ID', () => {
    expect(noticeMessageId(notice('in_1QxYz2AbCdEf'), 'billing@acme.test')).toBe('<notice-42.invoice_issued.0.in_1QxYz2AbCdEf@acme.test>');
  });

  it.each(["in_'; DROP TABLE invoices; --", 'in_" OR 1=1', 'in_<b>x</b>', 'in_東京', 'in_a@b', 'in_%41', 'in_\r\nBcc: x@evil.test'])(
    'keeps %j inside the msg-id grammar, distinct from its neighbours',
    (id) => {
      const messageId = noticeMessageId(notice(id), 'billing@acme.test');
      expect(messageId).toMatch(MSG_ID);
      expect(messageId).not.toBe(noticeMessageId(notice(`${id}x`), 'billing@acme.test'));
      expect(messageId).not.toBe(noticeMessageId(notice(id.replace(/[^A-Za-z0-9_]/g, '')), 'billing@acme.test'));
    },
  );
});

describe('a notice with a subject (refund notices)', () => {
  const refund = (subject: string, id = '42') => ({ id, kind: 'refund_issued', sequence: 0, stripe_invoice_id: 'in_1QxYz2AbCdEf', subject });

  it('names the subject, so two refund emails of one invoice differ even apart from the row id', () => {
    expect(noticeMessageId(refund('refund:re_1Abc'), 'billing@acme.test')).toBe('<notice-42.refund_issued.0.in_1QxYz2AbCdEf.refund%3Are_1Abc@acme.test>');
    expect(noticeMessageId(refund('charge:ch_1Abc:1000'), 'billing@acme.test')).toBe('<notice-42.refund_issued.0.in_1QxYz2AbCdEf.charge%3Ach_1Abc%3A1000@acme.test>');
    expect(noticeMessageId(refund('refund:re_1'), 'billing@acme.test')).not.toBe(noticeMessageId(refund('refund:re_2'), 'billing@acme.test'));
  });

  it('is the old Message-ID for an empty subject', () => {
    expect(noticeMessageId({ ...notice('in_1QxYz2AbCdEf'), subject: '' }, 'billing@acme.test')).toBe(noticeMessageId(notice('in_1QxYz2AbCdEf'), 'billing@acme.test'));
  });

  it.each(['refund:re_<b>"x"</b>', 'refund:re_\r\nBcc: x@evil.test', 'charge:ch_東京:5'])('keeps %j inside the msg-id grammar', (subject) => {
    expect(noticeMessageId(refund(subject), 'billing@acme.test')).toMatch(MSG_ID);
  });
});

describe('an invoice id with odd characters, end to end', () => {
  const world = useNoticeWorld();

  it('reaches the SMTP server with a well-formed Message-ID equal to the one recorded', async () => {
    const id = 'in_<b>" OR 1=1 東京';
    await deliverAll(world(), [finalizedEvent(openInvoice({ id, customerEmail: 'ap@odd-ids.test' }))]);
    expect(await drainOnce(world().db.ds, world().smtp.url)).toBe(1);
    const [row] = await noticeRows(world().db.ds, [id]);
    const [mail] = world().smtp.to('ap@odd-ids.test');
    expect(mail!.messageId).toMatch(MSG_ID);
    expect(mail!.messageId).toBe(row!.message_id);
  });
});
