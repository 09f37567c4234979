/**
 * AWS plumbing shared by every other package: the single definition of each table,
 * queue and bucket (used by infra/ and by the local bootstrap), the stage config with
 * the store regions, the handler wiring (queue subscribers and schedules), and lazily
 * created SDK clients whose endpoints come from the environment.
 */
export * from './api-timeout'
export * from './clients'
export * from './correlation'
export * from './resources'
export * from './settings'
export * from './stage-config'
export * from './telemetry'
export * from './wiring'
