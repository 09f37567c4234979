import { dynamoClient } from '@meridian/aws'
import { DynamoLockTable, MemoryLockTable } from '@meridian/lock'
import { Resource } from 'sst'
import { lockTableContract } from './lock-table-contract'

lockTableContract(
  'DynamoDB Local',
  () => new DynamoLockTable(dynamoClient(), Resource.Coordination.name),
)
lockTableContract('in-memory double', () => new MemoryLockTable())
