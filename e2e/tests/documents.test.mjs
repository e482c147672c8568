// G12: documents on an agenda item, as the office uses them: upload a PDF, replace it,
// see version 2 in the list, download it as an attachment, delete it after a
// confirmation; a file that is no PDF is refused with the message beside the field.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openSession } from '../lib/browser.mjs';
import { serverAndBrowser } from '../lib/suite.mjs';

/** A small valid one-page PDF with one line of text. */
function pdf(line) {
  const text = `BT /F1 12 Tf 56 780 Td (${line}) Tj ET`;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>',
    `<< /Length ${text.length} >>\nstream\n${text}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let out = '%PDF-1.4\n';
  const offsets = [];
  objects.forEach((body, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const o of offsets) out += `${String(o).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

const TITLE = 'Beschlussvorlage Digitalisierung';

describe('documents on an agenda item', () => {
  let server;
  const sessions = [];
  let s;

  serverAndBrowser(sessions, async (sv, browser) => {
    server = sv;
    s = await openSession(browser, server);
    sessions.push(s);
  });

  it('the office uploads a PDF, replaces it, sees version 2, downloads it as an attachment and deletes it', { timeout: 180_000 }, async () => {
    const { page } = s;
    await s.visit(server.signInLink);
    await s.load(() => page.getByRole('button', { name: 'Anmelden', exact: true }).click());
    await page.getByRole('banner').getByRole('button', { name: 'Abmelden', exact: true }).waitFor();

    // --- upload to the 45th session's agenda item ----------------------------------
    await s.visit('/gremien/sitzungen/45');
    await s.load(() => page.getByRole('link', { name: 'Dokument hinzufügen', exact: true }).first().click());
    await page.getByRole('heading', { level: 1, name: 'Dokument hinzufügen' }).waitFor();

    // A file that is no PDF is refused, with the message beside the field.
    await page.locator('#f-title').fill(TITLE);
    await page.locator('#f-file').setInputFiles({ name: 'vorlage.pdf', mimeType: 'application/pdf', buffer: Buffer.from('<html><body>kein PDF</body></html>') });
    await s.load(() => page.getByRole('button', { name: 'Hochladen', exact: true }).click(), { allowStatus: (st) => st === 422 });
    const message = await page.locator('#f-file-error').innerText();
    assert.match(message, /kein PDF- oder Office-Dokument/);
    assert.equal(await page.locator('#f-file').getAttribute('aria-invalid'), 'true');
    assert.equal(await page.locator('#f-title').inputValue(), TITLE, 'the title is kept');

    await page.locator('#f-file').setInputFiles({ name: 'Vorlage Länder.pdf', mimeType: 'application/pdf', buffer: pdf('Erste Fassung') });
    await s.load(() => page.getByRole('button', { name: 'Hochladen', exact: true }).click());
    assert.match(page.url(), /\/gremien\/sitzungen\/45#top-\d+$/);
    const row = page.locator('.documents tr', { hasText: TITLE });
    await row.waitFor();
    assert.equal((await row.locator('.document-version').innerText()).trim(), '1');
    assert.match(await row.innerText(), /PDF/);

    // --- replace it --------------------------------------------------------------------
    await s.load(() => page.getByRole('link', { name: `Neue Version hochladen: ${TITLE}`, exact: true }).click());
    await page.locator('#f-file').setInputFiles({ name: 'Vorlage Länder v2.pdf', mimeType: 'application/pdf', buffer: pdf('Zweite Fassung') });
    await s.load(() => page.getByRole('button', { name: 'Hochladen', exact: true }).click());
    await row.waitFor();
    assert.equal((await row.locator('.document-version').innerText()).trim(), '2', 'the list shows version 2');
    assert.match(await row.innerText(), /Frühere Versionen/);

    // --- the download --------------------------------------------------------------------
    const href = await row.getByRole('link', { name: TITLE, exact: true }).getAttribute('href');
    assert.match(href, /^\/dokumente\/\d+$/);
    const response = await page.request.get(href);
    assert.equal(response.status(), 200);
    const h = response.headers();
    assert.equal(h['content-type'], 'application/pdf');
    assert.equal(h['content-disposition'], "attachment; filename=\"Vorlage Laender v2.pdf\"; filename*=UTF-8''Vorlage%20L%C3%A4nder%20v2.pdf");
    assert.equal(h['x-content-type-options'], 'nosniff');
    assert.match(h['content-security-policy'], /^sandbox/);
    const body = (await response.body()).toString('latin1');
    assert.match(body, /Zweite Fassung/);
    const first = await page.request.get(`${href}/versionen/1`);
    assert.match((await first.body()).toString('latin1'), /Erste Fassung/);

    // --- delete it, after the confirmation step --------------------------------------
    await s.load(() => page.getByRole('link', { name: `Löschen: ${TITLE}`, exact: true }).click());
    await page.getByRole('heading', { level: 1, name: `Dokument löschen: ${TITLE}` }).waitFor();
    await s.load(() => page.getByRole('button', { name: 'Endgültig löschen', exact: true }).click());
    assert.match(page.url(), /\/gremien\/sitzungen\/45\?dokument-geloescht=agenda-item-\d+#top-\d+$/);
    await page.getByRole('status').filter({ hasText: 'Das Dokument wurde mit allen Versionen gelöscht.' }).waitFor();
    assert.equal(await page.locator('.documents tr', { hasText: TITLE }).count(), 0);
    assert.equal((await page.request.get(href)).status(), 404, 'its address leads nowhere');
    s.assertClean();
  });
});
