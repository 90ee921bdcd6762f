// axe-core scans of the page as it is (WCAG 2.1 A and AA rules): the report of each scan is
// written next to the screenshots; serious and critical violations fail the test.
import { AxeBuilder } from '@axe-core/playwright'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { ARTIFACTS } from './paths'

export interface Violation {
  id: string
  impact: string | null | undefined
  help: string
  targets: string[]
}

/** Serious and critical violations on ``page`` now (all of them are saved to a11y-<name>.json). */
export async function seriousViolations(page: Page, name: string): Promise<Violation[]> {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze()
  const all: Violation[] = results.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help, targets: v.nodes.slice(0, 10).map((n) => n.target.join(' ')),
  }))
  mkdirSync(ARTIFACTS, { recursive: true })
  writeFileSync(join(ARTIFACTS, `a11y-${name}.json`), `${JSON.stringify({ url: page.url(), passed: results.passes.map((p) => p.id), incomplete: results.incomplete.map((i) => i.id), violations: all }, null, 2)}\n`)
  return all.filter((v) => v.impact === 'serious' || v.impact === 'critical')
}
