import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

const IMRELP = ['/usr/lib/x86_64-linux-gnu/rsyslog', '/usr/lib/aarch64-linux-gnu/rsyslog', '/usr/lib/rsyslog']
  .map((directory) => join(directory, 'imrelp.so'))
  .find((path) => existsSync(path));

/** Why the RELP receiver tests cannot run here, or null when they can. */
export function imrelpMissing(): string | null {
  return (
    rsyslogMissing() ??
    (IMRELP ? null : "rsyslog's imrelp module is not installed (apt-get install -y rsyslog-relp)")
  );
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
  /** Whether every thread of rsyslogd has stopped after `freeze` (SIGSTOP takes effect asynchronously). */
  frozen(): boolean;
  /** SIGCONT after `freeze`. */
  thaw(): void;
  /** SIGKILL: the receiver dies at once, with whatever it held only in memory. */
  kill(): Promise<void>;
  /** Starts again on the same port, appending to the same files. */
  restart(): Promise<void>;
  dispose(): Promise<void>;
}

/**
 * A private rsyslogd in the foreground: octet-counted RFC 5424 over imtcp (TLS through gtls when
 * `tls` is given) or RELP over imrelp (`relp`), each message written raw and, through mmnormalize's
 * CEF parser, as JSON. The ruleset's queue is Direct: rsyslog runs the actions in the thread that
 * received the message, so imrelp acknowledges a message only after omfile wrote it (to the
 * kernel, which keeps it when rsyslogd is killed), and imtcp has written everything it read before
 * it reads on.
 */
export async function startRsyslog(
  options: { tls?: boolean; relp?: boolean } = {},
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
  const input = options.relp
    ? `module(load="imrelp")\ninput(type="imrelp" port="${port}" ruleset="audit")`
    : `module(load="imtcp"${tlsModule})\ninput(type="imtcp" port="${port}" ruleset="audit")`;
  const config = join(directory, 'rsyslog.conf');
  writeFileSync(
    config,
    `global(workDirectory="${directory}"${tlsGlobal})
${input}
module(load="mmnormalize")
template(name="raw" type="string" string="%pri% %timereported:::date-rfc3339% %hostname% %app-name% %msgid% %msg%\\n")
template(name="parsed" type="string" string="%$!all-json%\\n")
ruleset(name="audit" queue.type="Direct") {
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
    const started = Promise.race([
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
    // A daemon that runs but never listens (a module failed to load) would otherwise outlive the test.
    await started.catch(async (error) => {
      await kill();
      throw new Error(`${(error as Error).message}: ${output}`);
    });
  }

  async function stop() {
    const running = child;
    if (!running || running.exitCode !== null) return;
    child = null;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGTERM');
    await exited;
  }

  async function kill() {
    const running = child;
    if (!running || running.exitCode !== null) return;
    child = null;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGKILL');
    await exited;
    rmSync(join(directory, 'rsyslogd.pid'), { force: true });
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
    kill,
    restart: start,
    freeze: () => child?.kill('SIGSTOP'),
    frozen: () => {
      const pid = child?.pid;
      if (!pid) return false;
      const tasks = readdirSync(`/proc/${pid}/task`);
      // The state follows the parenthesised command name in /proc/PID/task/TID/stat.
      return tasks.every((task) => /\) [tT] /.test(readFileSync(`/proc/${pid}/task/${task}/stat`, 'utf8')));
    },
    thaw: () => child?.kill('SIGCONT'),
    async dispose() {
      await stop();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
