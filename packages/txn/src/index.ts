/**
 * Atomic multi-key, multi-region transactions over the regional KV stores: two-phase commit
 * (and three-phase commit as an option) with the transaction record in the coordination
 * table as the single source of truth. The coordinator stages each new value as an intent
 * on its key, makes the decision with one conditional write of the record, and applies it;
 * if it dies anywhere, readers that meet an intent and a scheduled sweeper finish the
 * transaction from the record. Ports (TransactionLog, Participant, Clock, KeyRouter) have a
 * DynamoDB adapter each and an in-memory double for deterministic simulation.
 */
export * from './coordinator'
export * from './dynamodb/dynamodb-participant'
export * from './dynamodb/dynamodb-transaction-log'
export * from './errors'
export * from './key-router'
export * from './memory/fake-clock'
export * from './memory/memory-participant'
export * from './memory/memory-transaction-log'
export * from './operations'
export * from './participant-rules'
export * from './ports'
export * from './record'
export * from './recovery'
export * from './transaction-service'
export * from './transaction-state'
