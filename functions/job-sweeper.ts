// Scheduled: re-sends the tasks of stages that run too long (stragglers, lost launches).
// `redrive` re-sends the unfinished tasks of every running job at once, whatever their
// age: the local runtime calls it at start, because its queues are in memory and lose
// every message on a restart while the jobs survive in DynamoDB.
import type { JobService } from '@meridian/mapreduce'
import type { ScheduledEvent } from 'aws-lambda'
import { mapReduceService } from './mapreduce-service'

export const sweepOptions = { stragglerAfterMs: 120_000, sweepsMax: 5, jobsMax: 100 }

let service: JobService | undefined

export async function handler(_event: ScheduledEvent) {
  service ??= mapReduceService()
  return service.sweep(sweepOptions)
}

export async function redrive(_event: ScheduledEvent) {
  service ??= mapReduceService()
  return service.sweep({ ...sweepOptions, stragglerAfterMs: 0 })
}
