// DynamoDB Local is a Java program. Find out before starting it whether a usable Java
// runtime exists, so the user reads one clear line instead of a stack trace.
import { spawnSync } from 'node:child_process'

export const javaVersionMin = 17

export class JavaMissingError extends Error {
  override name = 'JavaMissingError'
}

/** Parses `java -version` output: `openjdk version "17.0.15"` or the old `"1.8.0_402"`. */
export function parseJavaMajorVersion(output: string): number | undefined {
  const match = /version "(\d+)(?:\.(\d+))?/.exec(output)
  if (!match) return undefined
  const first = Number(match[1])
  return first === 1 ? Number(match[2]) : first
}

export function assertJavaAvailable(): void {
  const result = spawnSync('java', ['-version'], { encoding: 'utf8' })
  const install =
    `install Java ${javaVersionMin}+ (Debian/Ubuntu: apt-get install openjdk-17-jre-headless; ` +
    'macOS: brew install openjdk@17) and make sure `java` is on PATH'
  if (result.error) {
    throw new JavaMissingError(
      `DynamoDB Local needs Java ${javaVersionMin}+, but no \`java\` was found: ${install}.`,
    )
  }
  const major = parseJavaMajorVersion(`${result.stderr}${result.stdout}`)
  if (major === undefined || major < javaVersionMin) {
    throw new JavaMissingError(
      `DynamoDB Local needs Java ${javaVersionMin}+, but \`java -version\` reports ${major ?? 'an unknown version'}: ${install}.`,
    )
  }
}
