import { describe, expect, it } from '@jest/globals';
import { consolePath, hasControlCharacters, isSameOrigin, wantsHtml } from './admin-http.js';

describe('console request helpers', () => {
  describe(consolePath.name, () => {
    it('keeps a console path', () => {
      for (const path of ['/admin', '/admin/events?status=failed', '/admin/jobs/cabc', '/admin/queues/']) {
        expect(consolePath(path)).toBe(path);
      }
    });

    it('sends anything else to the console front page, never to another site', () => {
      for (const next of [
        undefined,
        '',
        'https://evil.example/admin',
        '//evil.example/admin',
        '/admin//evil',
        '/\\evil.example',
        '/admin\\..',
        '/administrator',
        '/jobs',
        'admin',
      ]) {
        expect(consolePath(next)).toBe('/admin');
      }
    });
  });

  describe(hasControlCharacters.name, () => {
    it('finds a NUL, an escape or DEL in the decoded path or query', () => {
      for (const url of [
        '/admin/queues/api/queues?status=a%00b',
        '/admin/queues/api/queues?st%01atus=x',
        '/admin/queues/api/queues/q%00/jobs/1',
        '/a?b=%1b',
        '/a?b=%7F',
        '/a\u0000',
      ]) {
        expect(hasControlCharacters(url)).toBe(true);
      }
    });

    it('lets through what Bull Board asks for, and malformed escapes (the router refuses those)', () => {
      for (const url of [
        '/admin/queues/api/queues?activeQueue=magic-hour-events&status=latest&page=1&jobsPerPage=10',
        '/admin/queues/',
        '/a?q=two+words%20%C3%A9',
        '/a%ZZ?b=%',
        '/a?b=%00x'.replace('%00', '%2500'),
      ]) {
        expect(hasControlCharacters(url)).toBe(false);
      }
    });
  });

  describe(isSameOrigin.name, () => {
    it('takes Sec-Fetch-Site over Origin, and only same-origin', () => {
      expect(isSameOrigin({ 'sec-fetch-site': 'same-origin', host: 'a:1' })).toBe(true);
      expect(isSameOrigin({ 'sec-fetch-site': 'same-site', origin: 'http://a:1', host: 'a:1' })).toBe(false);
      expect(isSameOrigin({ 'sec-fetch-site': 'cross-site', host: 'a:1' })).toBe(false);
    });

    it('compares Origin with Host, port included', () => {
      expect(isSameOrigin({ origin: 'http://console.example:3000', host: 'console.example:3000' })).toBe(true);
      expect(isSameOrigin({ origin: 'https://console.example', host: 'console.example' })).toBe(true);
      expect(isSameOrigin({ origin: 'http://console.example:3001', host: 'console.example:3000' })).toBe(false);
      expect(isSameOrigin({ origin: 'http://evil.example', host: 'console.example' })).toBe(false);
      expect(isSameOrigin({ origin: 'null', host: 'console.example' })).toBe(false);
    });

    it('lets through a request with neither header (not a browser, so no operator cookie rides on it)', () => {
      expect(isSameOrigin({ host: 'console.example' })).toBe(true);
    });
  });

  it('tells a browser navigation from an API call', () => {
    expect(wantsHtml({ accept: 'text/html,application/xhtml+xml,*/*;q=0.8' })).toBe(true);
    expect(wantsHtml({ accept: 'application/json' })).toBe(false);
    expect(wantsHtml({})).toBe(false);
  });
});
