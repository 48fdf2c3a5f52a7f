import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closedPort, waitFor } from './receivers.ts';

const RSYSLOGD = ['/usr/sbin/rsyslogd', '/sbin/rsyslogd'].find((path) => existsSync(path)) ?? null;

/** Why rsyslog tests cannot run here, or null when they can. */
export function rsyslogMissing(): string | null {
  if (!RSYSLOGD) return 'rsyslogd is not installed (apt-get install -y rsyslog rsyslog-gnutls)';
  return null;
}

export interface TlsMaterial {
  certFile: string;
  keyFile: string;
  certificate: string;
}

/** A self-signed certificate for 127.0.0.1, made with openssl in `directory`. */
export function selfSignedCertificate(directory: string): TlsMaterial {
  const certFile = join(directory, 'cert.pem');
  const keyFile = join(directory, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=auditline-test',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ],
    { stdio: 'ignore' },
  );
  return { certFile, keyFile, certificate: readFileSync(certFile, 'utf8') };
}

export interface Rsyslog {
  port: number;
  directory: string;
  /** Lines as rsyslog wrote them: `PRI TIMESTAMP HOST APP MSGID MSG`. */
  lines(): string[];
  /** mmnormalize's JSON for each message (CEF parsed into fields). */
  parsed(): { cef: { Extensions: Record<string, string> } & Record<string, unknown> }[];
  stop(): Promise<void>;
  /** SIGSTOP: the receiver hangs (the kernel still accepts connections, nothing is read). */
  freeze(): void;
  /** SIGCONT after `freeze`. */
  thaw(): void;
  /** Starts again on the same port, appending to the same files. */
  restart(): Promise<void>;
  dispose(): Promise<void>;
}

/**
 * A private rsyslogd in the foreground: octet-counted RFC 5424 over imtcp (TLS through gtls when
 * `tls` is given), each message written raw and, through mmnormalize's CEF parser, as JSON.
 */
export async function startRsyslog(
  options: { tls?: boolean } = {},
): Promise<Rsyslog & { tls: TlsMaterial | null }> {
  const directory = mkdtempSync(join(tmpdir(), 'auditline-rsyslog-'));
  const tls = options.tls ? selfSignedCertificate(directory) : null;
  const port = await closedPort();
  const rules = join(directory, 'cef.rb');
  writeFileSync(rules, 'version=2\nrule=:%cef:cef%\n');
  const raw = join(directory, 'raw.log');
  const parsed = join(directory, 'parsed.log');
  const tlsGlobal = tls
    ? ` DefaultNetstreamDriverCAFile="${tls.certFile}" DefaultNetstreamDriverCertFile="${tls.certFile}" DefaultNetstreamDriverKeyFile="${tls.keyFile}"`
    : '';
  const tlsModule = tls ? ' StreamDriver.Name="gtls" StreamDriver.Mode="1" StreamDriver.AuthMode="anon"' : '';
  const config = join(directory, 'rsyslog.conf');
  writeFileSync(
    config,
    `global(workDirectory="${directory}"${tlsGlobal})
module(load="imtcp"${tlsModule})
module(load="mmnormalize")
template(name="raw" type="string" string="%pri% %timereported:::date-rfc3339% %hostname% %app-name% %msgid% %msg%\\n")
template(name="parsed" type="string" string="%$!all-json%\\n")
input(type="imtcp" port="${port}" ruleset="audit")
ruleset(name="audit") {
  action(type="omfile" file="${raw}" template="raw")
  action(type="mmnormalize" rulebase="${rules}")
  action(type="omfile" file="${parsed}" template="parsed")
}
`,
  );
  let child: ChildProcess | null = null;
  let output = '';

  async function start() {
    output = '';
    child = spawn(RSYSLOGD!, ['-n', '-f', config, '-i', join(directory, 'rsyslogd.pid')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (chunk) => (output += chunk));
    child.stderr!.on('data', (chunk) => (output += chunk));
    const exited = new Promise<never>((_, reject) =>
      child!.once('exit', (code) => reject(new Error(`rsyslogd exited with ${code}: ${output}`))),
    );
    exited.catch(() => {});
    await Promise.race([
      waitFor(
        () =>
          new Promise<boolean>((resolve) => {
            const probe = connect(port, '127.0.0.1', () => {
              probe.destroy();
              resolve(true);
            });
            probe.on('error', () => resolve(false));
          }),
        'rsyslogd to listen',
        10_000,
      ),
      exited,
    ]);
  }

  async function stop() {
    const running = child;
    if (!running || running.exitCode !== null) return;
    child = null;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGTERM');
    await exited;
  }

  const readLines = (file: string) =>
    existsSync(file)
      ? readFileSync(file, 'utf8')
          .split('\n')
          .filter((line) => line.length > 0)
      : [];

  await start();
  return {
    port,
    directory,
    tls,
    lines: () => readLines(raw),
    parsed: () => readLines(parsed).map((line) => JSON.parse(line)),
    stop,
    restart: start,
    freeze: () => child?.kill('SIGSTOP'),
    thaw: () => child?.kill('SIGCONT'),
    async dispose() {
      await stop();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
