// Lambda entry for reduce tasks: the same task worker as map-worker, on the reduce queue.
import { reduceQueue } from '@meridian/aws'
import type { JobService } from '@meridian/mapreduce'
import { taskWorkerHandler } from './map-worker'
import { mapReduceService } from './mapreduce-service'

let service: JobService | undefined

export const handler = taskWorkerHandler(() => {
  service ??= mapReduceService()
  return service
}, reduceQueue.deadLetter.maxReceiveCount)
