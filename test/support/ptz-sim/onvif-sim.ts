// An ONVIF Profile S PTZ camera as node:http answering the SOAP 1.2 calls the `onvif` client makes:
// device (GetSystemDateAndTime, GetServices, GetCapabilities), media (GetProfiles, GetVideoSources)
// and PTZ (GetPresets, GotoPreset, SetPreset, RemovePreset, ContinuousMove, Stop). WS-Security
// UsernameToken digests are checked (ONVIF Core §5.12) when a user is configured; anything else
// gets the SOAP fault ter:ActionNotSupported. Faults are injected through the public fields.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface OnvifPreset { token: string; name: string; pan: number; tilt: number; zoom: number }

const NS = 'xmlns:SOAP-ENV="http://www.w3.org/2003/05/soap-envelope" xmlns:tt="http://www.onvif.org/ver10/schema" '
  + 'xmlns:tds="http://www.onvif.org/ver10/device/wsdl" xmlns:trt="http://www.onvif.org/ver10/media/wsdl" '
  + 'xmlns:tptz="http://www.onvif.org/ver20/ptz/wsdl" xmlns:ter="http://www.onvif.org/ver10/error"';

function envelope(body: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope ${NS}><SOAP-ENV:Body>${body}</SOAP-ENV:Body></SOAP-ENV:Envelope>`;
}

function fault(sub: string, reason: string): string {
  return envelope(`<SOAP-ENV:Fault><SOAP-ENV:Code><SOAP-ENV:Value>SOAP-ENV:Sender</SOAP-ENV:Value><SOAP-ENV:Subcode><SOAP-ENV:Value>${sub}</SOAP-ENV:Value></SOAP-ENV:Subcode></SOAP-ENV:Code><SOAP-ENV:Reason><SOAP-ENV:Text xml:lang="en">${reason}</SOAP-ENV:Text></SOAP-ENV:Reason></SOAP-ENV:Fault>`);
}

function tag(xml: string, name: string): string | undefined {
  return new RegExp(`<(?:\\w+:)?${name}\\b[^>]*>([^<]*)</(?:\\w+:)?${name}>`).exec(xml)?.[1];
}

export class OnvifCameraSim {
  private server!: Server;
  port = 0;
  readonly calls: string[] = [];
  readonly presets = new Map<string, OnvifPreset>();
  position = { pan: 0, tilt: 0, zoom: 0 };
  velocity = { x: 0, y: 0, zoom: 0 };
  profileToken = 'Profile_1';
  user: { name: string; password: string } | undefined;
  /** The next PTZ request gets this fault (subcode, reason). */
  faultNext: [string, string] | undefined;
  /** Requests to leave unanswered (the client must time out). */
  hangNext = 0;
  private nextToken = 1;

  async start(host = '127.0.0.1'): Promise<this> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server.listen(0, host, resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  addPreset(name: string, pos: { pan: number; tilt: number; zoom: number }): string {
    const token = String(this.nextToken++);
    this.presets.set(token, { token, name, ...pos });
    return token;
  }

  private authorised(xml: string): boolean {
    if (!this.user) return true;
    const user = tag(xml, 'Username');
    const digest = tag(xml, 'Password');
    const nonce = tag(xml, 'Nonce');
    const created = tag(xml, 'Created');
    if (user !== this.user.name || !digest || !nonce || !created) return false;
    const expect = createHash('sha1').update(Buffer.concat([Buffer.from(nonce, 'base64'), Buffer.from(created), Buffer.from(this.user.password)])).digest('base64');
    return expect === digest;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const xml = Buffer.concat(chunks).toString('utf8');
      const action = /<(?:\w+:)?Body\b[^>]*>\s*<(?:\w+:)?(\w+)/.exec(xml)?.[1] ?? 'unknown';
      this.calls.push(action);
      if (this.hangNext > 0) {
        this.hangNext--;
        return; // never answered; closed by the client's timeout or stop()
      }
      const send = (status: number, body: string) => {
        res.writeHead(status, { 'content-type': 'application/soap+xml; charset=utf-8' });
        res.end(body);
      };
      // Only the clock may be read without credentials (ONVIF Core §5.12.1).
      if (action !== 'GetSystemDateAndTime' && !this.authorised(xml)) return send(400, fault('ter:NotAuthorized', 'Sender not Authorized'));
      try {
        const body = this.answer(action, xml);
        if (body === undefined) return send(400, fault('ter:ActionNotSupported', `${action} is not supported`));
        send(200, envelope(body));
      } catch (e) {
        const [sub, reason] = e as [string, string];
        send(400, fault(sub, reason));
      }
    });
  }

  private checkProfile(xml: string): void {
    if (tag(xml, 'ProfileToken') !== this.profileToken) throw ['ter:InvalidArgVal', 'ter:NoProfile'];
  }

  private answer(action: string, xml: string): string | undefined {
    const base = `http://127.0.0.1:${this.port}/onvif`;
    const isPtz = ['GetPresets', 'GotoPreset', 'SetPreset', 'RemovePreset', 'ContinuousMove', 'Stop'].includes(action);
    if (isPtz && this.faultNext) {
      const f = this.faultNext;
      this.faultNext = undefined;
      throw f;
    }
    switch (action) {
      case 'GetSystemDateAndTime': {
        const d = new Date();
        return `<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime><tt:DateTimeType>NTP</tt:DateTimeType><tt:DaylightSavings>false</tt:DaylightSavings><tt:UTCDateTime><tt:Time><tt:Hour>${d.getUTCHours()}</tt:Hour><tt:Minute>${d.getUTCMinutes()}</tt:Minute><tt:Second>${d.getUTCSeconds()}</tt:Second></tt:Time><tt:Date><tt:Year>${d.getUTCFullYear()}</tt:Year><tt:Month>${d.getUTCMonth() + 1}</tt:Month><tt:Day>${d.getUTCDate()}</tt:Day></tt:Date></tt:UTCDateTime></tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>`;
      }
      case 'GetServices': {
        const svc = (ns: string, path: string, major: number) =>
          `<tds:Service><tds:Namespace>${ns}</tds:Namespace><tds:XAddr>${base}/${path}</tds:XAddr><tds:Version><tt:Major>${major}</tt:Major><tt:Minor>0</tt:Minor></tds:Version></tds:Service>`;
        return `<tds:GetServicesResponse>${svc('http://www.onvif.org/ver10/device/wsdl', 'device_service', 2)}${svc('http://www.onvif.org/ver10/media/wsdl', 'media_service', 2)}${svc('http://www.onvif.org/ver20/ptz/wsdl', 'ptz_service', 2)}</tds:GetServicesResponse>`;
      }
      case 'GetCapabilities':
        return `<tds:GetCapabilitiesResponse><tds:Capabilities><tt:Device><tt:XAddr>${base}/device_service</tt:XAddr></tt:Device><tt:Media><tt:XAddr>${base}/media_service</tt:XAddr></tt:Media><tt:PTZ><tt:XAddr>${base}/ptz_service</tt:XAddr></tt:PTZ></tds:Capabilities></tds:GetCapabilitiesResponse>`;
      case 'GetProfiles':
        return `<trt:GetProfilesResponse><trt:Profiles token="${this.profileToken}" fixed="true"><tt:Name>MainStream</tt:Name>`
          + '<tt:VideoSourceConfiguration token="VSC_1"><tt:Name>VSC_1</tt:Name><tt:UseCount>1</tt:UseCount><tt:SourceToken>VS_1</tt:SourceToken><tt:Bounds x="0" y="0" width="1920" height="1080"/></tt:VideoSourceConfiguration>'
          + '<tt:VideoEncoderConfiguration token="VEC_1"><tt:Name>VEC_1</tt:Name><tt:UseCount>1</tt:UseCount><tt:Encoding>H264</tt:Encoding><tt:Resolution><tt:Width>1920</tt:Width><tt:Height>1080</tt:Height></tt:Resolution><tt:Quality>5</tt:Quality><tt:RateControl><tt:FrameRateLimit>25</tt:FrameRateLimit><tt:EncodingInterval>1</tt:EncodingInterval><tt:BitrateLimit>4096</tt:BitrateLimit></tt:RateControl></tt:VideoEncoderConfiguration>'
          + '<tt:PTZConfiguration token="PTZ_1"><tt:Name>PTZ_1</tt:Name><tt:UseCount>1</tt:UseCount><tt:NodeToken>PTZNODE_1</tt:NodeToken></tt:PTZConfiguration>'
          + '</trt:Profiles></trt:GetProfilesResponse>';
      case 'GetVideoSources':
        return '<trt:GetVideoSourcesResponse><trt:VideoSources token="VS_1"><tt:Framerate>25</tt:Framerate><tt:Resolution><tt:Width>1920</tt:Width><tt:Height>1080</tt:Height></tt:Resolution></trt:VideoSources></trt:GetVideoSourcesResponse>';
      case 'GetPresets': {
        this.checkProfile(xml);
        const items = [...this.presets.values()].map((p) =>
          `<tptz:Preset token="${p.token}"><tt:Name>${p.name}</tt:Name><tt:PTZPosition><tt:PanTilt x="${p.pan}" y="${p.tilt}"/><tt:Zoom x="${p.zoom}"/></tt:PTZPosition></tptz:Preset>`).join('');
        return `<tptz:GetPresetsResponse>${items}</tptz:GetPresetsResponse>`;
      }
      case 'GotoPreset': {
        this.checkProfile(xml);
        const p = this.presets.get(tag(xml, 'PresetToken') ?? '');
        if (!p) throw ['ter:InvalidArgVal', 'ter:NoToken'];
        this.position = { pan: p.pan, tilt: p.tilt, zoom: p.zoom };
        return '<tptz:GotoPresetResponse/>';
      }
      case 'SetPreset': {
        this.checkProfile(xml);
        const name = tag(xml, 'PresetName') ?? '';
        const token = tag(xml, 'PresetToken') ?? String(this.nextToken++);
        this.presets.set(token, { token, name, ...this.position });
        return `<tptz:SetPresetResponse><tptz:PresetToken>${token}</tptz:PresetToken></tptz:SetPresetResponse>`;
      }
      case 'RemovePreset':
        this.checkProfile(xml);
        this.presets.delete(tag(xml, 'PresetToken') ?? '');
        return '<tptz:RemovePresetResponse/>';
      case 'ContinuousMove': {
        this.checkProfile(xml);
        const pt = /<(?:\w+:)?PanTilt\b[^>]*\bx="([-\d.]+)"[^>]*\by="([-\d.]+)"/.exec(xml);
        const z = /<(?:\w+:)?Zoom\b[^>]*\bx="([-\d.]+)"/.exec(xml);
        this.velocity = { x: Number(pt?.[1] ?? 0), y: Number(pt?.[2] ?? 0), zoom: Number(z?.[1] ?? 0) };
        return '<tptz:ContinuousMoveResponse/>';
      }
      case 'Stop':
        this.checkProfile(xml);
        this.velocity = { x: 0, y: 0, zoom: 0 };
        return '<tptz:StopResponse/>';
      default:
        return undefined;
    }
  }
}
