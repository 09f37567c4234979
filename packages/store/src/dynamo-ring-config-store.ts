// The ring config in the coordination table: one item (pk 'ring', sk 'config') holding the
// config as JSON and its version as a number, changed only by a conditional write on the
// version, so two administrators can't overwrite each other's change unseen.
import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb'
import { RingVersionMismatchError } from './errors'
import type { RingConfig, RingConfigStore, RingLayout } from './ring-config'

export const ringConfigKey = { pk: 'ring', sk: 'config' } as const

const neverStored = 'attribute_not_exists(pk)'
const versionMatches = '#version = :expectedVersion'

export interface DynamoRingConfigStoreOptions {
  client: DynamoDBClient
  /** The coordination table (Resource.Coordination.name). */
  tableName: string
  /** The item's key; tests give each ring its own. */
  itemKey?: { pk: string; sk: string }
}

export class DynamoRingConfigStore implements RingConfigStore {
  private readonly client: DynamoDBClient
  private readonly tableName: string
  private readonly itemKey: { pk: string; sk: string }

  constructor(options: DynamoRingConfigStoreOptions) {
    this.client = options.client
    this.tableName = options.tableName
    this.itemKey = options.itemKey ?? ringConfigKey
  }

  async load(): Promise<RingConfig | undefined> {
    const output = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: { pk: { S: this.itemKey.pk }, sk: { S: this.itemKey.sk } },
        ConsistentRead: true,
      }),
    )
    const json = output.Item?.config?.S
    return json === undefined ? undefined : (JSON.parse(json) as RingConfig)
  }

  async replace(expectedVersion: number | 'absent', config: RingLayout): Promise<RingConfig> {
    const version = expectedVersion === 'absent' ? 1 : expectedVersion + 1
    const stored = { ...config, version } as RingConfig
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: {
            pk: { S: this.itemKey.pk },
            sk: { S: this.itemKey.sk },
            version: { N: String(version) },
            config: { S: JSON.stringify(stored) },
          },
          ...(expectedVersion === 'absent'
            ? { ConditionExpression: neverStored }
            : {
                ConditionExpression: versionMatches,
                ExpressionAttributeNames: { '#version': 'version' },
                ExpressionAttributeValues: { ':expectedVersion': { N: String(expectedVersion) } },
              }),
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      )
      return stored
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        const actual = error.Item?.version?.N
        throw new RingVersionMismatchError(
          expectedVersion,
          actual === undefined ? undefined : Number(actual),
          { cause: error },
        )
      }
      throw error
    }
  }
}
