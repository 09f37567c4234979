// What the lock integration tests share: the coordination table's name read through
// Resource as in production, and unique tenants so test files can run in parallel.
import { dynamoClient } from '@meridian/aws'
import { DynamoLockTable } from '@meridian/lock'
import { Resource } from 'sst'

const linked = Resource as unknown as Record<string, { name: string }>

export function coordinationTableName(): string {
  return linked.Coordination!.name
}

export function dynamoLockTable(): DynamoLockTable {
  return new DynamoLockTable(dynamoClient(), coordinationTableName())
}

let counter = 0
export function uniqueTenant(): string {
  counter++
  return `t${Date.now().toString(36)}${process.pid.toString(36)}${counter}`
}
