import { transactionPortsContract } from '../contract/ports-contract'
import { MemoryParticipant } from './memory-participant'
import { MemoryTransactionLog } from './memory-transaction-log'

transactionPortsContract('in-memory doubles', () => ({
  log: new MemoryTransactionLog(),
  participant: new MemoryParticipant(),
  regions: ['r1', 'r2', 'r3'],
}))
