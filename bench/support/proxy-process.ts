// test/support/fault-proxy.ts in a process of its own, for benches that measure a process
// whose DynamoDB traffic goes through it: relaying every byte with its delay timers is
// the network's work, which must not run on the measured process's event loop. Started
// with the target port as argument; answers `{ endpoint }` once listening, then applies
// `{ rttMs }` messages (answering `{ rttMs }`) until disconnected.
import { FaultProxy } from '../../test/support/fault-proxy'

const proxy = await FaultProxy.start({ target: Number(process.argv[2]) })
process.on('message', (message: { rttMs: number }) => {
  proxy.setRoundTrip(message.rttMs)
  process.send?.({ rttMs: message.rttMs })
})
process.on('disconnect', () => {
  void proxy.close().finally(() => process.exit(0))
})
process.send?.({ endpoint: proxy.endpoint })
