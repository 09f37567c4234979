// Counts the HTTP requests an AWS SDK v3 client sends to DynamoDB: the middleware sits in
// the deserialize step, inside the retry loop, so each attempt counts once, as the v2 SDK's
// 'send' event does. Benches count both sides with it (or its v2 twin) so they count alike.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb'

export interface RequestCounter {
  /** Requests since the last reset, by command name (GetItemCommand, ...). */
  readonly byCommand: Map<string, number>
  total(): number
  reset(): void
}

export function newRequestCounter(): RequestCounter {
  const byCommand = new Map<string, number>()
  return {
    byCommand,
    total: () => [...byCommand.values()].reduce((sum, count) => sum + count, 0),
    reset: () => byCommand.clear(),
  }
}

/** Counts every HTTP attempt `client` makes into `counter`. Adding twice is a no-op. */
export function countHttpRequests(client: DynamoDBClient, counter: RequestCounter): void {
  const name = 'benchCountHttpRequests'
  if (client.middlewareStack.identify().some((entry) => entry.startsWith(name))) return
  client.middlewareStack.add(
    (next, context) => (args) => {
      const command = context.commandName ?? 'unknown'
      counter.byCommand.set(command, (counter.byCommand.get(command) ?? 0) + 1)
      return next(args)
    },
    { step: 'deserialize', name },
  )
}
