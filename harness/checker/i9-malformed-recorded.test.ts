import { describe, expect, test } from 'vitest';
import type pg from 'pg';
import type { History } from '../history/history.ts';
import { checkMalformedRecorded } from './i9-malformed-recorded.ts';
import { runFacts } from './run-facts.ts';
import { cleanWorld, newHistory, resetDatabase, standardCaptures, useScratchClient } from './test-world.ts';

const TOPIC = 'ESP32CAM/B8F862F9C1C4/data';

/** The device published a malformed message (the corrupt-message fault). */
function sendMalformed(history: History, kind: string, expectedCode: string, topic = TOPIC): void {
  history.append({ type: 'device_sent_malformed', mac: 'B8F862F9C1C4', topic, kind, expectedCode });
}

async function recordRejection(client: pg.ClientBase, code: string, topic = TOPIC): Promise<void> {
  await client.query(
    `INSERT INTO rejected_messages (topic, device_mac, code, reason, payload_bytes, payload_excerpt)
     VALUES ($1, 'B8F862F9C1C4', $2, 'refused', 10, '{"x":')`,
    [topic, code],
  );
}

describe('I9 malformed messages recorded', () => {
  const client = useScratchClient('checker_i9');

  test('passes with "0 malformed messages sent" when none were', async () => {
    const { history } = await cleanWorld(client(), standardCaptures);
    const v = await checkMalformedRecorded(client(), runFacts(history.events));
    expect(v).toMatchObject({ id: 'I9', verdict: 'pass', summary: '0 malformed messages sent' });
  });

  test('passes when every malformed message has a row with its code', async () => {
    const { history } = await cleanWorld(client(), standardCaptures);
    sendMalformed(history, 'truncated_json', 'not_json');
    sendMalformed(history, 'truncated_json', 'not_json');
    sendMalformed(history, 'bad_base64', 'bad_base64');
    await recordRejection(client(), 'not_json');
    await recordRejection(client(), 'not_json');
    await recordRejection(client(), 'bad_base64');
    const v = await checkMalformedRecorded(client(), runFacts(history.events));
    expect(v.verdict).toBe('pass');
    expect(v.summary).toContain('3 malformed messages sent');
  });

  test('fails when a malformed message was dropped without a rejected_messages row', async () => {
    const { history } = await cleanWorld(client(), standardCaptures);
    sendMalformed(history, 'mac_mismatch', 'device_id_mismatch');
    sendMalformed(history, 'mac_mismatch', 'device_id_mismatch');
    await recordRejection(client(), 'device_id_mismatch'); // one of the two
    const v = await checkMalformedRecorded(client(), runFacts(history.events));
    expect(v.verdict).toBe('fail');
    expect(v.offending).toEqual([
      {
        mac: 'B8F862F9C1C4',
        topic: TOPIC,
        expectedCode: 'device_id_mismatch',
        kinds: ['mac_mismatch'],
        sent: 2,
        recorded: 1,
      },
    ]);
  });

  test('a row with another reason, or on another topic, does not count', async () => {
    const { history } = await cleanWorld(client(), standardCaptures);
    sendMalformed(history, 'bad_base64', 'bad_base64');
    await recordRejection(client(), 'not_json');
    await recordRejection(client(), 'bad_base64', 'ESP32CAM/98A316F82928/data');
    const v = await checkMalformedRecorded(client(), runFacts(history.events));
    expect(v.verdict).toBe('fail');
  });

  test('a missing row is exempt (counted) only when a fault that may lose the message struck after it was sent', async () => {
    const { history } = await cleanWorld(client(), standardCaptures);
    history.append({ type: 'nemesis', fault: 'drop', target: 'camfleet-pipeline-x', detail: TOPIC }); // before: no excuse
    sendMalformed(history, 'truncated_json', 'not_json');
    expect((await checkMalformedRecorded(client(), runFacts(history.events))).verdict).toBe('fail');
    history.append({ type: 'nemesis', fault: 'drop', target: 'camfleet-pipeline-x', detail: TOPIC });
    const v = await checkMalformedRecorded(client(), runFacts(history.events));
    expect(v.verdict).toBe('pass');
    expect(v.summary).toContain('1 sent before a fault that may have lost it (exempt)');
    sendMalformed(history, 'truncated_json', 'not_json'); // a second one, after every fault: not exempt
    expect((await checkMalformedRecorded(client(), runFacts(history.events))).verdict).toBe('fail');
  });

  test('a message sent while a scheduled restart is still in progress is exempt; one sent after it is done is not', async () => {
    const { history } = await cleanWorld(client(), standardCaptures);
    history.append({ type: 'fault_fired', planId: 1, fault: 'pipeline_restart', trigger: '65%', detail: '' });
    history.append({ type: 'nemesis', fault: 'pipeline_restart', target: 'pipeline' });
    sendMalformed(history, 'truncated_json', 'not_json'); // no subscriber yet: lost to the restart
    history.append({ type: 'fault_done', planId: 1, fault: 'pipeline_restart' });
    expect((await checkMalformedRecorded(client(), runFacts(history.events))).verdict).toBe('pass');
    sendMalformed(history, 'truncated_json', 'not_json'); // the pipeline serves again: must be recorded
    expect((await checkMalformedRecorded(client(), runFacts(history.events))).verdict).toBe('fail');
  });

  test('unknown when the pipeline has no rejected_messages table', async () => {
    await resetDatabase(client(), 'resume');
    const history = newHistory();
    sendMalformed(history, 'truncated_json', 'not_json');
    const v = await checkMalformedRecorded(client(), runFacts(history.events));
    expect(v.verdict).toBe('unknown');
    expect(v.summary).toContain('rejected_messages does not exist');
  });
});
