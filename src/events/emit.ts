import { AuditlineError } from '../errors.ts';
import { fromPublicId, uuidv7 } from '../ids.ts';
import { organizationFor, type Viewer } from '../tenancy/viewer.ts';
import {
  type EmitEventInput,
  type InputError,
  LIMITS,
  type PreparedEvent,
  prepareEvent,
} from './emit-input.ts';
import type { AuditEvent } from './event.ts';
import { MAX_ID_LENGTH } from './input-limits.ts';
import type { EventWriter } from './writer.ts';

export interface EmitResult {
  index: number;
  event: AuditEvent | null;
  replayed: boolean | null;
  error: InputError | null;
}

export interface EmitDependencies {
  writer: EventWriter;
  /** Tells whether an organization a platform key names exists. */
  organizationExists(publicId: string): Promise<boolean>;
}

/**
 * Validates and stores a batch. Valid items are stored (or replayed) even when others are rejected;
 * each result carries its index and either the event or the error with the input path at fault.
 */
export async function emitEvents(
  deps: EmitDependencies,
  viewer: Viewer,
  inputs: readonly EmitEventInput[],
  now = new Date(),
): Promise<EmitResult[]> {
  if (inputs.length > LIMITS.batchSize) {
    throw new AuditlineError(
      'BAD_USER_INPUT',
      `emitEvents takes at most ${LIMITS.batchSize} events per call; got ${inputs.length}`,
      ['input'],
    );
  }
  const results: EmitResult[] = inputs.map((_, index) => ({
    index,
    event: null,
    replayed: null,
    error: null,
  }));
  const accepted: { index: number; event: PreparedEvent }[] = [];
  for (const [index, input] of inputs.entries()) {
    const problem = await organizationProblem(deps, viewer, input);
    if ('error' in problem) {
      results[index]!.error = problem.error;
      continue;
    }
    const prepared = prepareEvent(input, { id: uuidv7(now.getTime()), organizationId: problem.uuid }, now);
    if (prepared.ok) accepted.push({ index, event: prepared.event });
    else results[index]!.error = prepared.error;
  }
  const outcomes = await deps.writer.write(accepted.map((item) => item.event));
  for (const [position, outcome] of outcomes.entries()) {
    const result = results[accepted[position]!.index]!;
    if (outcome.kind === 'conflict') {
      result.error = {
        code: 'IDEMPOTENCY_CONFLICT',
        message: `idempotencyKey was already used for event ${outcome.existingEventId} with a different payload`,
        path: ['idempotencyKey'],
      };
    } else {
      result.event = outcome.event;
      result.replayed = outcome.kind === 'replayed';
    }
  }
  return results;
}

async function organizationProblem(
  deps: EmitDependencies,
  viewer: Viewer,
  input: EmitEventInput,
): Promise<{ uuid: string } | { error: InputError }> {
  if ((input.organizationId?.length ?? 0) > MAX_ID_LENGTH) {
    const message = `organizationId is ${input.organizationId!.length} characters long; the limit is ${MAX_ID_LENGTH}`;
    return { error: { code: 'BAD_USER_INPUT', message, path: ['organizationId'] } };
  }
  try {
    const organizationId = organizationFor(viewer, input.organizationId, ['organizationId'], true)!;
    const uuid = fromPublicId('org', organizationId);
    if (!uuid || (viewer.organizationId === null && !(await deps.organizationExists(organizationId)))) {
      return {
        error: {
          code: 'BAD_USER_INPUT',
          message: `No organization ${organizationId}`,
          path: ['organizationId'],
        },
      };
    }
    return { uuid };
  } catch (error) {
    if (error instanceof AuditlineError && (error.code === 'FORBIDDEN' || error.code === 'BAD_USER_INPUT')) {
      return { error: { code: error.code, message: error.message, path: error.inputPath } };
    }
    throw error;
  }
}
