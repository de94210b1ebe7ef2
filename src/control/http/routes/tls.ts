/**
 * The local CA for devices to trust: `GET /tls/ca.pem` (PEM), `GET /tls/ca.crt` (DER, what
 * Android, iOS and Windows install), and `GET /tls`, install steps in Korean and English with
 * the CA's SHA-256 fingerprint to compare. With `httpRedirect`, plain HTTP answers 308 to the
 * HTTPS URL except these pages and /health, /ready, /metrics.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';

/** What the TLS routes need. */
export interface TlsRouteDeps {
  /** The CA certificate, or undefined when a real certificate (tlsCert) is used. */
  ca?: { pem: string; der: Buffer; fingerprint: string };
  /** The HTTPS port the browser is sent to. */
  httpsPort: number;
  /** Send plain HTTP to HTTPS (308). */
  redirect: boolean;
}

const EXEMPT = /^\/(tls(\/.*)?|health|ready|metrics)(\?.*)?$/;

function encrypted(req: FastifyRequest): boolean {
  return (req.raw.socket as { encrypted?: boolean }).encrypted === true;
}

function esc(s: string): string {
  return s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The install page (server-rendered; no script). */
function page(fingerprint: string): string {
  const fp = esc(fingerprint);
  return `<!doctype html><html lang="ko"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>AirClass 인증서 설치 / Install the AirClass certificate</title>
<style>body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;line-height:1.5}code{word-break:break-all;background:#eee;padding:.1rem .3rem}h2{margin-top:2rem}</style></head><body>
<h1>AirClass 인증서 설치 <span lang="en">/ Install the AirClass certificate</span></h1>
<p>이 기기에서 AirClass를 HTTPS로 안전하게 열려면 학교 AirClass의 로컬 인증 기관(CA)을 한 번 신뢰하도록 설치하세요.</p>
<p lang="en">To open AirClass over HTTPS on this device, install and trust the school AirClass local certificate authority (CA) once.</p>
<p><a href="/tls/ca.crt" download="airclass-ca.crt">airclass-ca.crt (Windows, Android, iOS, ChromeOS)</a> · <a href="/tls/ca.pem" download="airclass-ca.pem">airclass-ca.pem (macOS, Linux)</a></p>
<p>SHA-256 지문 <span lang="en">/ fingerprint</span>: <code id="fingerprint">${fp}</code></p>
<p>설치 전에 이 지문이 IT 담당자가 알려준 값과 같은지 확인하세요. <span lang="en">Before installing, check that it matches what your IT person gave you.</span></p>
<h2>Windows</h2><ol><li>airclass-ca.crt 열기 → 인증서 설치 → 로컬 컴퓨터 → "신뢰할 수 있는 루트 인증 기관"에 저장.</li>
<li lang="en">Open airclass-ca.crt → Install Certificate → Local Machine → Place in "Trusted Root Certification Authorities".</li></ol>
<h2>macOS</h2><ol><li>airclass-ca.pem을 두 번 클릭 → 키체인 접근(시스템) → 인증서를 두 번 클릭 → 신뢰 → "항상 신뢰".</li>
<li lang="en">Double-click airclass-ca.pem → Keychain Access (System) → double-click the certificate → Trust → "Always Trust".</li></ol>
<h2>Android</h2><ol><li>airclass-ca.crt 다운로드 → 설정 → 보안 → 암호화 및 사용자 인증 정보 → 인증서 설치 → CA 인증서.</li>
<li lang="en">Download airclass-ca.crt → Settings → Security → Encryption &amp; credentials → Install a certificate → CA certificate.</li></ol>
<h2>iOS / iPadOS</h2><ol><li>Safari에서 airclass-ca.crt 다운로드 → 설정 → 프로파일 다운로드됨 → 설치 → 설정 → 일반 → 정보 → 인증서 신뢰 설정 → AirClass 켜기.</li>
<li lang="en">Download airclass-ca.crt in Safari → Settings → Profile Downloaded → Install → Settings → General → About → Certificate Trust Settings → turn on AirClass.</li></ol>
<h2>ChromeOS</h2><ol><li>chrome://certificate-manager (또는 설정 → 개인정보 및 보안 → 보안 → 인증서 관리) → 로컬 인증서 → 가져오기 → airclass-ca.crt → "웹사이트 식별" 신뢰.</li>
<li lang="en">chrome://certificate-manager (or Settings → Privacy and security → Security → Manage certificates) → Authorities → Import → airclass-ca.crt → trust for identifying websites.</li></ol>
<p>관리 기기(Google 관리 콘솔, Intune, MDM)에서는 IT 담당자가 이 CA를 한 번에 배포할 수 있습니다. <span lang="en">Managed devices (Google Admin, Intune, MDM): the IT person can push this CA to all of them at once.</span></p>
</body></html>`;
}

/** Registers /tls, /tls/ca.pem, /tls/ca.crt and (with `redirect`) the HTTP → HTTPS 308. */
export function tlsRoutes(app: FastifyInstance, deps: TlsRouteDeps): void {
  if (deps.redirect) {
    app.addHook('onRequest', async (req, reply) => {
      if (encrypted(req) || EXEMPT.test(req.url)) return;
      const host = (req.headers.host ?? 'localhost').replace(/:\d+$/, '');
      const port = deps.httpsPort === 443 ? '' : `:${deps.httpsPort}`;
      return reply.code(308).header('location', `https://${host}${port}${req.url}`).send();
    });
  }
  const ca = deps.ca;
  if (!ca) return;
  const hide = { schema: { hide: true } };
  app.get('/tls/ca.pem', hide, async (_req, reply) =>
    reply
      .type('application/x-pem-file')
      .header('content-disposition', 'attachment; filename="airclass-ca.pem"')
      .send(ca.pem),
  );
  app.get('/tls/ca.crt', hide, async (_req, reply) =>
    reply
      .type('application/x-x509-ca-cert')
      .header('content-disposition', 'attachment; filename="airclass-ca.crt"')
      .send(ca.der),
  );
  app.get('/tls', hide, async (_req, reply) =>
    reply.type('text/html; charset=utf-8').send(page(ca.fingerprint)),
  );
}
