// A CloudFront origin-request event around a request, in the shape AWS documents
// ("Lambda@Edge event structure", origin request example), for tests of the edge trigger.
import type { CloudFrontRequest, CloudFrontRequestEvent } from 'aws-lambda'

export function originRequestEvent(request: CloudFrontRequest): CloudFrontRequestEvent {
  return {
    Records: [
      {
        cf: {
          config: {
            distributionDomainName: 'd111111abcdef8.cloudfront.net',
            distributionId: 'EDFDVBD6EXAMPLE',
            eventType: 'origin-request',
            requestId: '4TyzHTaYWb1GX1qTfsHhEqV6HUDd_BzoBZnwfnvQc_1oF26ClkoUSEQ==',
          },
          request,
        },
      },
    ],
  }
}
