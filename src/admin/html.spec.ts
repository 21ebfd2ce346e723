import { describe, expect, it } from '@jest/globals';
import { escapeHtml, externalUrl, html, pathWithQuery, SafeHtml } from './html.js';

describe('html', () => {
  it('escapes the five characters that matter in content and quoted attributes', () => {
    expect(escapeHtml(`<a href="x" title='y'>&amp;</a>`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;');
    expect(escapeHtml(42)).toBe('42');
  });

  it('escapes every interpolated string, in content and in attributes', () => {
    const hostile = `"><script>alert(1)</script>`;
    const out = html`<p title="${hostile}">${hostile}</p>`.toString();
    expect(out).toBe('<p title="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;">&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;</p>');
    expect(out).not.toContain('<script>');
  });

  it('keeps markup made by the tag itself, and escapes each item of a list', () => {
    const items = ['<b>', 'ok'].map((text) => html`<li>${text}</li>`);
    expect(html`<ul>${items}</ul>`.toString()).toBe('<ul><li>&lt;b&gt;</li><li>ok</li></ul>');
    expect(html`${['<i>', html`<i>`]}`.toString()).toBe('&lt;i&gt;<i>');
  });

  it('renders null, undefined and false as nothing, but 0 and true as text', () => {
    expect(html`[${null}${undefined}${false}${0}${true}]`.toString()).toBe('[0true]');
  });

  it('does not take an object that merely looks like markup as markup', () => {
    const impostor = { toString: () => '<script>' } as unknown as string;
    expect(html`${impostor}`.toString()).toBe('&lt;script&gt;');
    expect(html`x`).toBeInstanceOf(SafeHtml);
  });

  it('links only http and https URLs', () => {
    expect(externalUrl('https://videos.magichour.ai/a b/out.mp4')).toBe('https://videos.magichour.ai/a%20b/out.mp4');
    expect(externalUrl('http://example.com/x')).toBe('http://example.com/x');
    for (const url of ['javascript:alert(1)', ' JavaScript:alert(1)', 'data:text/html,<script>', 'vbscript:x', '/relative', '', 42, null]) {
      expect(externalUrl(url)).toBeNull();
    }
  });

  it('builds console paths, leaving out empty values and encoding the rest', () => {
    expect(pathWithQuery('/admin', { status: 'complete', media: undefined, cursor: '' })).toBe('/admin?status=complete');
    expect(pathWithQuery('/admin/events', { jobId: 'a&b=c' })).toBe('/admin/events?jobId=a%26b%3Dc');
    expect(pathWithQuery('/admin', {})).toBe('/admin');
  });
});
