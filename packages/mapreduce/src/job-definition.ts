// What a job is: a map over input records (lines), an optional associative combiner
// applied inside each map task, a reduce per key, a partitioner, and for iterative jobs
// (gradient descent) a step that turns one round's reduce output into the next round's
// model or stops. Jobs are registered in code by name; a job spec names one.
import type { z } from 'zod'
import { JobSpecError } from './errors'
import { hashPartition } from './partitioner'

export type JsonValue =
  | string
  | number
  | boolean
  | null
  | JsonValue[]
  | { [key: string]: JsonValue }

export interface MapContext<Params, Model> {
  params: Params
  /** The iteration's model (undefined for single-round jobs). */
  model: Model
  round: number
  /** The S3 key the record came from. */
  sourceKey: string
  /** Index of the map task within the round, for seeded sampling. */
  task: number
}

export interface ReduceContext<Params, Model> {
  params: Params
  model: Model
  round: number
}

export interface IterationStep<Model> {
  model: Model
  /** True when the model converged; the job then finishes with it as output. */
  converged: boolean
}

export interface JobDefinition<
  Params = unknown,
  Value = JsonValue,
  Output = JsonValue,
  Model = undefined,
> {
  name: string
  description: string
  /** Validates and defaults the spec's `params`. */
  params: z.ZodType<Params>
  map(
    record: string,
    emit: (key: string, value: Value) => void,
    context: MapContext<Params, Model>,
  ): void
  /** Associative and commutative; folds values of one key inside a map task. */
  combine?(left: Value, right: Value): Value
  reduce(key: string, values: Value[], context: ReduceContext<Params, Model>): Output
  /** Partition of a key among `partitions`; defaults to an FNV-1a hash. */
  partitioner?(key: string, partitions: number): number
  /** Reduce partitions; a job may force one (the gradient job sums into one key). */
  partitions?(params: Params): number | undefined
  iterate?: {
    initialModel(params: Params): Model
    /** Rounds at most, including the first. */
    roundsMax(params: Params): number
    next(input: {
      params: Params
      model: Model
      round: number
      outputs: ReadonlyArray<readonly [string, Output]>
    }): IterationStep<Model>
  }
}

// biome-ignore lint/suspicious/noExplicitAny: the registry holds jobs of every type.
export type AnyJobDefinition = JobDefinition<any, any, any, any>

export function defineJob<
  Params,
  Value extends JsonValue,
  Output extends JsonValue,
  Model = undefined,
>(
  definition: JobDefinition<Params, Value, Output, Model>,
): JobDefinition<Params, Value, Output, Model> {
  return definition
}

/** Jobs by name. Handlers and the API share one registry built at module load. */
export class JobRegistry {
  private readonly jobs = new Map<string, AnyJobDefinition>()

  register(definition: AnyJobDefinition): this {
    if (this.jobs.has(definition.name))
      throw new Error(`job ${definition.name} is registered already`)
    this.jobs.set(definition.name, definition)
    return this
  }

  get(name: string): AnyJobDefinition {
    const definition = this.jobs.get(name)
    if (!definition) {
      throw new JobSpecError(`no job named ${name}`, [`known jobs: ${this.names().join(', ')}`])
    }
    return definition
  }

  names(): string[] {
    return [...this.jobs.keys()].sort()
  }
}

export function partitionOf(definition: AnyJobDefinition, key: string, partitions: number): number {
  const partition = (definition.partitioner ?? hashPartition)(key, partitions)
  if (!Number.isInteger(partition) || partition < 0 || partition >= partitions) {
    throw new Error(
      `partitioner of ${definition.name} returned ${partition} for ${partitions} partitions`,
    )
  }
  return partition
}
