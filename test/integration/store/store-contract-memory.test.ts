import { MemoryRegionalStore } from '@meridian/store'
import { storeContract } from './store-contract'

// The simulation double runs the same contract as the DynamoDB adapter, so it can't drift.
const store = new MemoryRegionalStore()
storeContract('in-memory double', () => ({
  store,
  stageIntent: (storageKey, intent) => store.stageIntent(storageKey, intent),
}))
