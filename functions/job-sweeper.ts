// Scheduled: re-sends the tasks of stages that run too long (stragglers, lost launches).
import type { JobService } from '@meridian/mapreduce'
import type { ScheduledEvent } from 'aws-lambda'
import { mapReduceService } from './mapreduce-service'

export const sweepOptions = { stragglerAfterMs: 120_000, sweepsMax: 5, jobsMax: 100 }

let service: JobService | undefined

export async function handler(_event: ScheduledEvent) {
  service ??= mapReduceService()
  return service.sweep(sweepOptions)
}
