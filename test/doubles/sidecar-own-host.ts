// The catalog part of the Sidecar double: the services of Sidecar's OWN host, as discovery lists
// them and its health checks judge them (NinesStack/sidecar healthy/healthy.go,
// catalog/services_state.go), and what the state dump shows of them. Timing is the caller's: it
// calls track() after each discovery pass and runChecks() every check interval.
import { ALIVE, DRAINING, TOMBSTONE, UNHEALTHY, UNKNOWN, rfc3339, type SidecarService } from './sidecar-discovery';

export interface StatusChange { at: number; status: number }

/** A host's entry in the state dump (catalog.Server). */
export interface Server { Name: string; Services: Record<string, SidecarService>; LastUpdated: string; LastChanged: string }

/** A service of the own host: its catalog record, what its check says, and its past statuses. */
interface OwnService { record: SidecarService; verdict: number; history: StatusChange[] }

export class OwnHostCatalog {
  /** Server.LastUpdated and LastChanged; undefined until the host has had a service. */
  times: { LastUpdated: string; LastChanged: string } | undefined;
  #services = new Map<string, OwnService>();
  #checkPasses = new Map<string, boolean>();
  #checksRun = new Map<string, number>();
  #restartWindow = false;
  #overrides = new Map<string, number | 'missing'>();
  #hidden = false;
  readonly #now: () => number;
  readonly #onChange: (at: string) => void;

  /** `onChange` hears of every status change, with its RFC 3339 time. */
  constructor(now: () => number, onChange: (at: string) => void) {
    this.#now = now;
    this.#onChange = onChange;
  }

  history(id: string): StatusChange[] { return [...(this.#services.get(id)?.history ?? [])]; }

  /** From the next check on, the checks of `id` pass (true) or fail (false). */
  setCheckOutcome(id: string, passes: boolean): void { this.#checkPasses.set(id, passes); }

  /**
   * One discovery pass reaches the catalog (catalog TrackNewServices, then TombstoneServices):
   * `found` are the services discovery lists now; any other live service becomes a TOMBSTONE.
   */
  track(found: SidecarService[]): void {
    const listed = new Set<string>();
    for (const record of found) {
      listed.add(record.ID);
      const known = this.#services.get(record.ID);
      if (known && known.record.Status !== TOMBSTONE) {
        known.record = { ...record, Status: known.record.Status, Updated: known.record.Updated };
        this.#setVerdict(known, known.verdict);
        continue;
      }
      // New, or back after a stop: a new check, which starts UNKNOWN (healthy.NewCheck). Status -1
      // until then, so that first status is recorded as a change.
      this.#checksRun.delete(record.ID);
      const service: OwnService = { record: { ...record, Status: -1 }, verdict: UNKNOWN, history: known?.history ?? [] };
      this.#services.set(record.ID, service);
      this.#setVerdict(service, this.#restartWindow ? UNHEALTHY : UNKNOWN);
    }
    for (const service of this.#services.values()) {
      // svc.Tombstone(): TOMBSTONE, Updated now. The real one does this within
      // TOMBSTONE_SLEEP_INTERVAL (2 s) of the container leaving its list.
      if (!listed.has(service.record.ID) && service.record.Status !== TOMBSTONE) this.#record(service, TOMBSTONE);
    }
  }

  /** One round of healthy.Monitor.Run: MaxCount 1, so a single failed check is UNHEALTHY. */
  runChecks(): void {
    this.#restartWindow = false;
    for (const service of this.#services.values()) {
      if (service.record.Status === TOMBSTONE) continue; // its check went with its container
      const id = service.record.ID;
      const runs = this.#checksRun.get(id) ?? 0;
      this.#checksRun.set(id, runs + 1);
      // Unless a test says otherwise, the first check of a new service fails: it is still starting.
      const passes = this.#checkPasses.get(id) ?? runs > 0;
      this.#setVerdict(service, passes ? ALIVE : UNHEALTHY);
    }
  }

  /**
   * A restarted Sidecar answers UNHEALTHY for every live service (replacing DRAINING) until its
   * next runChecks(); services it discovers meanwhile too.
   */
  restart(): void {
    this.#restartWindow = true;
    for (const service of this.#services.values()) {
      if (service.record.Status !== TOMBSTONE) this.#setVerdict(service, UNHEALTHY);
    }
  }

  /** Test override: the dump shows `status` for `id`, or leaves it out ('missing'). */
  override(id: string, status: number | 'missing'): void {
    if (!this.#services.has(id)) throw new Error(`Sidecar does not list ${id}: an override only changes what it says about a service it has`);
    this.#overrides.set(id, status);
  }
  /** Test override: the dump leaves the host out. */
  hide(): void { this.#hidden = true; }
  clearOverrides(): void { this.#overrides.clear(); this.#hidden = false; }

  /** The host's entry in the state dump, overrides applied; undefined before its first service. */
  server(name: string): Server | undefined {
    if (!this.times || this.#hidden) return undefined;
    const services: Record<string, SidecarService> = {};
    for (const [id, { record }] of this.#services) {
      const override = this.#overrides.get(id);
      if (override !== 'missing') services[id] = override === undefined ? record : { ...record, Status: override };
    }
    return { Name: name, Services: services, ...this.times };
  }

  /** POST .../drain: the service's record, now DRAINING, or undefined when the host lacks `id`. */
  drain(id: string): SidecarService | undefined {
    const service = this.#services.get(id);
    if (!service) return undefined;
    this.#record(service, DRAINING);
    return service.record;
  }

  /** The check's verdict reaches the catalog (AddServiceEntry): ALIVE never replaces DRAINING (service.Invalidates). */
  #setVerdict(service: OwnService, verdict: number): void {
    service.verdict = verdict;
    if (!(service.record.Status === DRAINING && verdict === ALIVE)) this.#record(service, verdict);
  }

  /** A newer record for the service: Updated now; a status change also moves LastChanged. */
  #record(service: OwnService, status: number): void {
    const now = rfc3339(this.#now());
    const times = this.times ??= { LastUpdated: now, LastChanged: now };
    const changed = service.record.Status !== status;
    service.record = { ...service.record, Status: status, Updated: now };
    times.LastUpdated = now;
    if (!changed) return;
    times.LastChanged = now;
    service.history.push({ at: this.#now(), status });
    this.#onChange(now);
  }
}
