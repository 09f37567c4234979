/**
 * Regional KV stores: versioned items in one DynamoDB table per region, compare-and-swap
 * on version, writes fenced by lock tokens, and the item format transaction intents use.
 */
export * from './item-format'
