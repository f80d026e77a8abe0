import { ConveyorError } from '../errors/conveyor-error.ts';
import type { GateOutcomeRecord } from './types.ts';

/** The bytes stored under an artifact URI do not hash to the checksum a registration claims. */
export class ArtifactChecksumError extends ConveyorError {
  readonly uri: string;
  readonly expected: string;
  readonly actual: string;
  constructor(where: string, uri: string, expected: string, actual: string, refusing: 'register' | 'read' = 'register') {
    super('VALIDATION', `${where}: artifact ${uri} has sha256 ${actual}, expected ${expected}; refusing to ${refusing} bytes that do not match their checksum`, {
      uri,
      expected,
      actual,
    });
    this.uri = uri;
    this.expected = expected;
    this.actual = actual;
  }
}

/** A webhook did not answer 2xx after all its attempts (or answered a 4xx, which is not retried). */
export class WebhookDeliveryError extends ConveyorError {
  constructor(target: string, attempts: number, last: string) {
    super('INTERNAL', `webhook ${target}: delivery failed after ${attempts} attempt(s): ${last}`, { target, attempts, last });
  }
}

/**
 * A promotion to a version whose evaluation gates failed, without force. VALIDATION: the CLI exits 2,
 * the API answers 422. `refusal(how)` words the message for the caller's way of forcing.
 */
export class GatesFailedError extends ConveyorError {
  readonly model: string;
  readonly version: number;
  readonly alias: string;
  readonly failed: GateOutcomeRecord['gates'];
  constructor(model: string, version: number, alias: string, failed: GateOutcomeRecord['gates']) {
    super('VALIDATION', '', { model, version, alias, failedGates: failed });
    this.model = model;
    this.version = version;
    this.alias = alias;
    this.failed = failed;
    this.message = this.refusal('"force": true');
  }

  /** The message, naming the failed gates and `how` to promote anyway. */
  refusal(how: string): string {
    const gates = this.failed.length ? this.failed.map((g) => (g.reason ? `${g.name} (${g.reason})` : g.name)).join(', ') : 'no gate detail recorded';
    return `model "${this.model}" version ${this.version} failed its evaluation gates: ${gates}; refusing to point "${this.alias}" at it (promote it anyway with ${how})`;
  }
}
