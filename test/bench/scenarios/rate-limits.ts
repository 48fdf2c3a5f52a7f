import { fromPublicId } from '../../../src/ids.ts';
import { createOrganization } from '../../../src/tenancy/organizations.ts';
import { postJson } from '../lib/compare.ts';
import type { BenchContext } from '../lib/context.ts';
import { measured, type ScenarioEntry } from '../lib/results.ts';
import type { PacedPostResult } from '../load/paced-post.ts';
import { runPacedPost, runPacedPostApart } from '../load/run-load.ts';
import { auditlineEmitRequests, ingestInputs } from './ingest-workload.ts';
import type { Scenario } from './scenario.ts';

const SCENARIO = 'rate limits under abuse';
/** RATE_LIMIT_PER_KEY of the server in this scenario. */
const LIMIT = 100;
/** The abusing key sends ten times its limit. */
const ABUSE_RATE = 10 * LIMIT;
/** The other key's emits: half its limit, so none of them is refused. */
const VICTIM_RATE = 50;
/** The victim's p99 needs enough samples: at least this many seconds per run, whatever --run-seconds says. */
const MIN_RUN_SECONDS = 10;
/** No body contains it: paced-post stamps nothing. */
const NO_PLACEHOLDER = '\u0000';

/**
 * One key emitting at ten times RATE_LIMIT_PER_KEY (so nine in ten of its requests get 429) must not
 * slow another key down: the other key's emitEvent p99 while the abuse runs, against the same emits
 * with nothing else going on. Both clients run in processes of their own, apart from the server.
 */
export const rateLimits: Scenario = {
  id: 'rate-limits',
  title: SCENARIO,
  needsData: false,
  async run(ctx: BenchContext): Promise<ScenarioEntry[]> {
    const server = await ctx.startAuditline('auditline-rate-limits', { RATE_LIMIT_PER_KEY: String(LIMIT) });
    try {
      const [victim, abuser] = await Promise.all(
        ['victim', 'abuser'].map(async (role) => {
          const organization = await createOrganization(ctx.database.db, `bench-${role}-${Date.now()}`);
          const uuid = fromPublicId('org', organization.id)!;
          return auditlineEmitRequests(
            ingestInputs(uuid, 2000, role === 'victim' ? 99 : 7),
            await ctx.keyFor(uuid),
          );
        }),
      );
      const [first] = victim!;
      const smoke = await postJson(`${server.url}${first!.path}`, first!.body!, first!.headers);
      if (smoke.errors || !smoke.data?.emitEvent?.event?.id) {
        throw new Error(`the victim's smoke-test emit failed: ${JSON.stringify(smoke)}`);
      }

      const emit = (requests: typeof victim, rate: number, durationSeconds: number) => ({
        url: server.url,
        rate,
        durationSeconds,
        requests: requests!,
        sentAtPlaceholder: NO_PLACEHOLDER,
        failMarker: '"errors"',
        maxInFlight: 64,
      });
      const victimRun = async (seconds: number) => {
        const result = await runPacedPost(emit(victim, VICTIM_RATE, seconds));
        if (result.succeeded !== result.sent) {
          throw new Error(
            `${result.sent - result.succeeded} of the victim's emits failed: ${result.firstFailure}`,
          );
        }
        return result;
      };

      const seconds = Math.max(ctx.settings.runSeconds, MIN_RUN_SECONDS);
      await victimRun(ctx.settings.warmupSeconds);
      const idle: PacedPostResult[] = [];
      const loaded: PacedPostResult[] = [];
      const abuse: PacedPostResult[] = [];
      for (let repeat = 0; repeat < ctx.settings.repeats; repeat += 1) {
        idle.push(await victimRun(seconds));
        // The abuse starts a second before the measured window and ends a second after it.
        const abusing = runPacedPostApart(emit(abuser, ABUSE_RATE, seconds + 2));
        await new Promise((resolve) => setTimeout(resolve, 1000));
        loaded.push(await victimRun(seconds));
        abuse.push(await abusing);
        ctx.log(
          `${SCENARIO}: idle p99 ${idle.at(-1)!.latencyMs.p99.toFixed(1)} ms, under abuse ` +
            `${loaded.at(-1)!.latencyMs.p99.toFixed(1)} ms; the abuser sent ${abuse.at(-1)!.sent}, ` +
            `${abuse.at(-1)!.sent - abuse.at(-1)!.succeeded} refused`,
        );
      }

      const p99 = (runs: PacedPostResult[]) => runs.map((run) => Math.round(run.latencyMs.p99 * 10) / 10);
      return [
        measured({
          scenario: SCENARIO,
          name: `${SCENARIO}: another key's emit p99 while one key sends 10x its RATE_LIMIT_PER_KEY (${ABUSE_RATE} vs ${LIMIT} requests/s) vs idle`,
          figure: { unit: 'ms p99', values: p99(loaded) },
          baseline: {
            name: `the same ${VICTIM_RATE} emits/s with no other traffic`,
            figure: { unit: 'ms p99', values: p99(idle) },
          },
          target: { on: 'ratio', op: '<=', value: 1.5 },
          details: {
            limit: LIMIT,
            victimRate: VICTIM_RATE,
            abuseRate: ABUSE_RATE,
            seconds,
            idle: idle.map((run) => run.latencyMs),
            loaded: loaded.map((run) => run.latencyMs),
            abuse: abuse.map((run) => ({
              sent: run.sent,
              accepted: run.succeeded,
              refused: run.sent - run.succeeded,
              late: run.late,
              firstRefusal: run.firstFailure?.slice(0, 200),
            })),
          },
        }),
      ];
    } finally {
      await server.stop();
    }
  },
};
