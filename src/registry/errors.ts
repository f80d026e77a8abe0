import { ConveyorError } from '../errors/conveyor-error.ts';

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
