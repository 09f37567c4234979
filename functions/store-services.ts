// The KV and transaction services wired to each other: KV reads resolve intents through
// the transaction service, and transactions route keys through the KV service's ring (and
// pull a moving key first). A late-bound resolver breaks the cycle.
import type { IntentResolver, KvService } from '@meridian/store'
import { storeIntentResolver, type TransactionService } from '@meridian/txn'
import { kvService } from './kv-service'
import { transactionService } from './txn-service'

export function storeServices(): { kv: KvService; transactions: TransactionService } {
  let transactions: TransactionService | undefined
  const resolveIntent: IntentResolver = {
    resolve: (storageKey, item, region) => {
      if (!transactions) throw new Error('the transaction service is not wired yet')
      return storeIntentResolver(transactions).resolve(storageKey, item, region)
    },
  }
  const kv = kvService(resolveIntent)
  transactions = transactionService(kv)
  return { kv, transactions }
}
