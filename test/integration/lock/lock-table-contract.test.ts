import { MemoryLockTable } from '@meridian/lock'
import { lockTableContract } from './lock-table-contract'
import { dynamoLockTable } from './support'

lockTableContract('DynamoDB Local', dynamoLockTable)
lockTableContract('in-memory double', () => new MemoryLockTable())
