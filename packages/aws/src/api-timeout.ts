// Kept apart from wiring.ts so code that needs only the API's timeout (the job event stream's
// budget, in packages/api) does not bundle every function's wiring with it: a regional API's
// bundle then names no queue or bucket it is not linked to.

/** The timeout of every API function (home and regional): a forwarded stream lasts as long. */
export const apiTimeoutSeconds = 30
