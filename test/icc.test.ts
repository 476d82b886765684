// ICC profile summary (src/image/icc.ts), read to decide whether the fast decode may skip colour
// conversion. The `icc` npm package it replaces looped forever on a mutated profile: the JPEG below is
// npm run fuzz's seed 20261203 case 9473, whose decode hung the fast path (INPUT hang, > 10 s of CPU).
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { loadModelInput } from '../src/detect/input.js';
import { readIccSummary } from '../src/image/icc.js';

const FUZZ_CASE_9473 = Buffer.from('/9j/4QC8RXhpZgAASUkqAAgAAAAGABIBAwABAAAABgAAABoBBQABAAAAVgAAABsBBQABAAAAXgAAACgBAwABAAAAAgAAABMCAwABAAAAAQAAAGmHBAABAAAAZgAAAAAAAAA4YwAA6AMAADhjAADoAwAABgAAkAcABAAAADAyMTABkQcABAAAAAECAwAAoAcABAAAADAxMDABoAMAAQAAAP//AAACoAQAAQAAAFAAAAADoAQAAQAAADwAAAAAAAAA/+IB8ElDQ19QUk9GSUxFAAEBAAAB4GxjbXMEIAAAbW50clJHQiBYWVogB+IAAwAUAAkADgAdYWNzcE1TRlQAAAAAc2F3c2N0cmwAAAAAAAAAAAAAAAAAAPbWAAEAAAAA0y1oYW5keem/Vlo+AbaDI4VVRvdPqgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA9Vzs3vKOdYQW05GBHAAAAPwAAAAkY3BydAAAASAAAAAid3RwdAAAAUQAAAAUY2hhZAAAAVgAAAAsclhZWgAAAYQAAAAUZ1hZWgAAAZgAAAAUYlhZWgAAAawAAAAUclRSQwAAAcAAAAAgZ1RSQwAAAcAAAAAgYlRSQwAAAcAAAAAgbWx1YwAAAAAAAAABAAAADGVuVVMAAAAIAAAAHABzAFIARwBCbWx1YwAAAAAAAAABAAAADGVuVVMAAAAGAAAAHABDAEMAMAAAWFlaIAAAAAAAAPbWAAEAAAAA0y1zZjMyAAAAAAABDD8AAAXd///zJgAAB5AAAP2S///7of///aIAAAPcAADAcVhZWiAAAAAAAABvoAAAOPIAAAOPWFlaIAAAAAAAAGKWAAC3iQAAGNpYWVogAAAAAAAAJKAAAA+FAAC2xHBhcmEAAAAAAAMAAAACZmkAAPKnAAANWQAAE9AAAApb/9sAQwAGBAUGBQQGBgUGBwcGCAoQCgoJCQoUDg8MEBcUGBgXFBYWGh0lHxobIxwWFiAsICMmJykqKRkfLTAtKDAlKCko/9sAQwEHBwcKCAoTCgoTKBoWGigoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgo/8AAEQgAPABQAwEiAAIRAQMRAf/EABgAAQEBAQEAAAAAAAAAAAAAAAQFAwcI/8QAKBAAAgEDAgUEAwEAAAAAAAAAAQIDAAQREiEiMVFh0UFSobEyweFx/8QAGAEBAQEBAQAAAAAAAAAAAAAABQQDCAb/xAAsEQABAwIEBQIHAQAAAAAAAAABAgQRAAMSIUGBMTJhcfBRwRMicoKhsbKR/9oADAMBAAIRAxEAPwDzpFaQKQArt3C+abFbqG4bclepOKopaz6fxRANyQPNIWAlQWuBgew+K9ypYsjJOHXlSBGvMSY23qJu5nWgw2s5GBHGO4BpKW0m6POqn1GQDTFtoThmLyHlyOfmlx26DGiBj1zt5qZTsRGLL6yZB6IHuabbuKnJbxOvHK7gb4IJ+6TFbRBeGFyehAFVIreQkaIUA770pbeVWBZ0jB5DAH3UyjljKekhH5+dXnpTjd1pPm1TordiBogUHuc0tbaYKGOiNRzOPNMS2UcLzsQRyBLD4pMVrAGwEdh1C1Kp2QIKs+HOkEHsgT34elNt3FCWDkz3HbgP6FbrbQlgx1yE8zjzVGG3ONrcA+mW/lNitZyuAiKeoWplXDeGQxa8qyZ+4gTtvTbdzGtc8itIFIAV27hfNNit11cNuSOpOKpJazlfxRANyQPNbrASoLXAwPafFWqWLIyTh15UgRrzEmNt65zbuZ1oMNrORgRxjuFNJS2k3R51U+oyAaYttCcMzPIeXI5+aXHboMaIGPXO1TKdiIxZfWTIPRA9zTbdxU5LeJ0w8ruBvggn7pUVtFp4YXJ6EAVTit5CRohQDvvSlt5VYF3SMHkMAfdTKOWMp6SEfn51eelON3Wk+bVOit2IGiBQe5zTFtptIY6IwOZx5paWyjhediCPQlh8UmK1gDYCOw6halU7IEFWfDnSIPZAnvw9KbbuKEsHJnuO3Af0K3W2hLBjrkJ5nHmqMNucbW4B9Mt/KbFazlcBEU9QtTKuG8Mhi15Vkz9xAnbenG7mNa55FaQKQArt3C+abFbqG4bckdScVSS1nK50ogG5IHmt1gJUFrgYHsPirVLFkZJw68qQI15iTG29c5N3M60GG1nIwI4x3CnakpbSbo86qfUZANMW2hOGZnkPLkc/NLjt0GNEDN1ztUqnYiMWX1kyD0QPc043cVOS3ideOV3A3wQT90qK2iC8MLk9CAKpxW8hI0QoB3yaWtvKrAs6Rg8hgD7qZRyxlPSQj8/Orz0ptu60nzapsVuxA0QKD3OaYttMFDHRGBzOPNLS2UcLzsQR6EsPikxWsAbAR2HULUynZAgqz4c6QQeyBPfh6U43cUJYOTPcduA/oVuttCWDHXIx5nHmqMNucbW4B9Mt/KbFazsuAiKeoWplXPjDIYteVZM/cQJ23ptu5jWueRWkCkAK7dwvmmxW6huG3JXqTitYpmYABUXuB5psep8Zdhjpt9VrceWrK/hpEKyOSUx/pKv1XOze8o51hBbTkYEcY7hTtSUtpN0eZVPqMgGlxW6OQX1MepOaoW9pD7a2tm5eyRMdVnMdQAP2aZsOIqUlvE68cruBvggn7pUVtEF4YXJ6EAU64K28yokaEFc7/wCmtYpXLZBCjoAKMeXENTN+JmJCZ/pR80p1tfUrhWEVuxA0QKD3OaYttMFDHRGo5nHmtoY8jBeQg7EFjTre0h9tYW3Ny8IROfXD/KfcU3YvEUJYOTPcduA/oVuttCWDHXITzON/mqotokhdwoyqkjP+VnFOWXARFPUCsnoVZTN6CInVRy7qAnammrgnhX//2Q==', 'base64');

describe('ICC profile summary', () => {
  it('reads the colour space and description of sharp\'s sRGB and P3 profiles', async () => {
    const srgb = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#808080' } }).withIccProfile('srgb').png().toBuffer();
    const p3 = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#808080' } }).withIccProfile('p3').png().toBuffer();
    const a = readIccSummary((await sharp(srgb).metadata()).icc!);
    expect(a.colorSpace).toBe('RGB');
    expect(a.description).toMatch(/^srgb\b/i);
    const b = readIccSummary((await sharp(p3).metadata()).icc!);
    expect(b.colorSpace).toBe('RGB');
    expect(b.description).not.toMatch(/^srgb\b/i);
  });

  it('a malformed profile throws at once instead of looping', () => {
    const header = new Uint8Array(132);
    new DataView(header.buffer).setUint32(128, 0xffffffff); // four billion tags in 132 bytes
    expect(() => readIccSummary(header)).toThrow(/tags do not fit/);
    expect(() => readIccSummary(new Uint8Array(20))).toThrow(/past its end/);
    const desc = new Uint8Array(160);
    const v = new DataView(desc.buffer);
    v.setUint32(128, 1);
    desc.set([0x64, 0x65, 0x73, 0x63], 132); // 'desc'
    v.setUint32(136, 150);
    v.setUint32(140, 0x7fffffff); // tag size far past the end
    expect(() => readIccSummary(desc)).toThrow(/past its end/);
  });

  it('the fuzz case that hung the fast path decodes in well under a second', async () => {
    const started = performance.now();
    const input = await loadModelInput(new Uint8Array(FUZZ_CASE_9473), 'case-9473.jpg', 192, 192, { preprocess: 'fast' });
    expect(input.width * input.height).toBeGreaterThan(0);
    expect(performance.now() - started).toBeLessThan(2000);
  });
});
