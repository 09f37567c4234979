// The shared port contract on DynamoDB Local: the same expectations the simulation's
// in-memory doubles are held to.
import { transactionPortsContract } from '../../../packages/txn/src/contract/ports-contract'
import { dynamoPorts } from './support'

transactionPortsContract('DynamoDB adapters', () => {
  const ports = dynamoPorts()
  return { log: ports.log, participant: ports.participant, regions: ports.regions }
})
