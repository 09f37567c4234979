// Secrets, set per stage with `npx sst secret set AdminApiKey mrd_… --stage <stage>`.
import { adminApiKeySecret } from '../packages/aws/src'

/** The first admin API key; create the others through POST /admin/keys. */
export const adminApiKey = new sst.Secret(adminApiKeySecret.resource)
