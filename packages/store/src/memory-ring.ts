// In-memory doubles of the ring's storage for deterministic simulation: the ring config
// item (conditional replace on its version, as DynamoRingConfigStore) and the migration
// log (a completion recorded once, as DynamoMigrationLog). `pause` lets a simulation's
// scheduler interleave their calls with everything else.
import { RingVersionMismatchError } from './errors'
import type { RingConfig, RingConfigStore, RingLayout } from './ring-config'
import type { MigrationLog, MigrationTask, TaskCounts } from './ring-migration'

type Pause = () => Promise<void>
const noPause: Pause = () => Promise.resolve()

export class MemoryRingConfigStore implements RingConfigStore {
  private stored: RingConfig | undefined

  constructor(private readonly pause: Pause = noPause) {}

  async load(): Promise<RingConfig | undefined> {
    await this.pause()
    return this.stored && structuredClone(this.stored)
  }

  async replace(expectedVersion: number | 'absent', layout: RingLayout): Promise<RingConfig> {
    await this.pause()
    const actual = this.stored?.version
    if (
      (expectedVersion === 'absent' && actual !== undefined) ||
      (expectedVersion !== 'absent' && actual !== expectedVersion)
    ) {
      throw new RingVersionMismatchError(expectedVersion, actual)
    }
    const { version: _version, ...rest } = layout as RingConfig
    this.stored = structuredClone({ ...rest, version: (actual ?? 0) + 1 })
    return structuredClone(this.stored)
  }
}

export class MemoryMigrationLog implements MigrationLog {
  private readonly tasks = new Map<string, MigrationTask & TaskCounts>()

  constructor(private readonly pause: Pause = noPause) {}

  async complete(task: MigrationTask, counts: TaskCounts): Promise<boolean> {
    await this.pause()
    const id = `${task.ringVersion}#${task.region}#${task.segment}`
    if (this.tasks.has(id)) return false
    this.tasks.set(id, { ...task, ...counts })
    return true
  }

  async completed(ringVersion: number): Promise<Array<MigrationTask & TaskCounts>> {
    await this.pause()
    return [...this.tasks.values()].filter((task) => task.ringVersion === ringVersion)
  }
}
