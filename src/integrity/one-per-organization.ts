import { AuditlineError } from '../errors.ts';

/** Lets one run of some expensive work per organization at a time in this process; others get BUSY. */
export class OnePerOrganization {
  private readonly running = new Set<string>();

  constructor(private readonly work: string) {}

  async run<T>(organizationUuid: string, task: () => Promise<T>): Promise<T> {
    if (this.running.has(organizationUuid)) {
      throw new AuditlineError(
        'BUSY',
        `${this.work} is already running for this organization; retry once it has finished`,
      );
    }
    this.running.add(organizationUuid);
    try {
      return await task();
    } finally {
      this.running.delete(organizationUuid);
    }
  }
}
