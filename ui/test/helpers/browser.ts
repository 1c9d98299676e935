import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { type Browser, chromium, type Locator, type Page } from 'playwright-core'
import { findProgram } from '../../../test/helpers/programs.js'

/** The machine's Chromium (Debian's), headless; Playwright's own browser downloads are never used. */
export function launchChromium(): Promise<Browser> {
  const executablePath = findProgram('chromium')
  if (!executablePath) throw new Error('Chromium is not installed: apt-get install -y chromium')
  return chromium.launch({
    executablePath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  })
}

export interface OpenedPage {
  page: Page
  /** Anything the browser refused because of the Content-Security-Policy. */
  cspViolations: string[]
  close(): Promise<void>
}

/** A fresh browser context (own storage) on `url`, dates shown as a US reader in UTC sees them. */
export async function openPage(browser: Browser, url: string, width = 1280): Promise<OpenedPage> {
  const context = await browser.newContext({ viewport: { width, height: 900 }, locale: 'en-US', timezoneId: 'UTC' })
  const page = await context.newPage()
  const cspViolations: string[] = []
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text())
  })
  await page.goto(url)
  return { page, cspViolations, close: () => context.close() }
}

/** Waits (up to 10 s, or `timeout` ms) for the locator to be visible; false if it never is. */
export function shows(locator: Locator, timeout = 10_000): Promise<boolean> {
  return locator
    .first()
    .waitFor({ state: 'visible', timeout })
    .then(
      () => true,
      () => false,
    )
}

/**
 * Waits until the page has a heading and nothing is still loading: no network traffic for half a
 * second (the first burst of fetches answered), no loading note, and no text that a part of a page
 * shows only until its first answer (the dashboard's "Loading…" counts, "Checking every service…").
 */
export async function settled(page: Page): Promise<void> {
  await page.locator('h1').first().waitFor()
  await page.waitForLoadState('networkidle', { timeout: 20_000 })
  await page.waitForFunction(
    () => {
      const text = document.body.textContent ?? ''
      return (
        document.querySelector('.loading') === null &&
        !text.includes('Loading…') &&
        !text.includes('Checking every service…')
      )
    },
    undefined,
    { timeout: 20_000 },
  )
}

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')

export interface AxeViolation {
  id: string
  impact: string | null
  help: string
  targets: string[]
}

/**
 * axe-core's serious and critical findings on the page as it is now. axe is evaluated through the
 * DevTools protocol: a <script> tag with its source would be inline, which the UI's CSP refuses.
 */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(AXE_SOURCE)
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(): Promise<{ violations: AxeResult[] }> } }).axe
    interface AxeResult {
      id: string
      impact: string | null
      help: string
      nodes: { target: string[] }[]
    }
    const { violations } = await axe.run()
    return violations
      .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
      .map((violation) => ({
        id: violation.id,
        impact: violation.impact,
        help: violation.help,
        targets: violation.nodes.map((node) => node.target.join(' ')),
      }))
  })
}

/** How many CSS pixels the page is wider than the window (0: no sideways scrolling). */
export function horizontalOverflow(page: Page): Promise<number> {
  return page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)
}
