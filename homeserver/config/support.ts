// The `support:` section of the config file: what /.well-known/matrix/support tells users about
// reaching whoever runs the server (support.yaml). The older `admin_contact` key feeds it too.

import type { SupportConfig, SupportContact } from './types.ts';
import { ConfigError } from './config-error.ts';
import { expectBaseUrl, expectKnownKeys, expectList, expectString, isPlainObject, type Where } from './validate.ts';

const SUPPORT_KEYS = ['contacts', 'support_page'] as const;
const CONTACT_KEYS = ['matrix_id', 'email_address', 'role'] as const;

// support.yaml: `role` is m.role.admin, m.role.security or a namespaced identifier of one's own.
const ROLE = /^(m\.role\.(admin|security)|[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)+)$/;

export function readSupportSection(raw: unknown, file: string): SupportConfig {
  const at = (key: string): Where => ({ source: file, key: `support.${key}` });
  if (!isPlainObject(raw)) throw new ConfigError({ source: file, key: 'support', expected: 'a mapping with contacts and/or support_page', actual: raw });
  expectKnownKeys(raw, SUPPORT_KEYS, file, 'support.');
  const out: SupportConfig = { contacts: [] };
  if (raw.contacts !== undefined) out.contacts = expectList(raw.contacts, at('contacts'), expectContact);
  if (raw.support_page !== undefined) out.supportPage = expectBaseUrlOrPage(raw.support_page, at('support_page'));
  return out;
}

function expectContact(value: unknown, where: Where): SupportContact {
  if (!isPlainObject(value)) throw new ConfigError({ ...where, expected: 'a mapping with role and matrix_id and/or email_address', actual: value });
  expectKnownKeys(value, CONTACT_KEYS, where.source, `${where.key}.`);
  const sub = (key: string): Where => ({ source: where.source, key: `${where.key}.${key}` });
  const role = expectString(value.role, sub('role'), 'm.role.admin, m.role.security or a namespaced role');
  if (!ROLE.test(role)) throw new ConfigError({ ...sub('role'), expected: 'm.role.admin, m.role.security or a namespaced role', actual: role });
  const contact: SupportContact = { role };
  if (value.matrix_id !== undefined) {
    const id = expectString(value.matrix_id, sub('matrix_id'), 'a user id like @admin:example.org');
    if (!/^@[^:]+:.+$/.test(id)) throw new ConfigError({ ...sub('matrix_id'), expected: 'a user id like @admin:example.org', actual: id });
    contact.matrixId = id;
  }
  if (value.email_address !== undefined) {
    const email = expectString(value.email_address, sub('email_address'), 'an email address');
    if (!/^[^@\s]+@[^@\s]+$/.test(email)) throw new ConfigError({ ...sub('email_address'), expected: 'an email address', actual: email });
    contact.emailAddress = email;
  }
  // support.yaml: "At least one of `matrix_id` or `email_address` is required."
  if (contact.matrixId === undefined && contact.emailAddress === undefined) {
    throw new ConfigError({ source: where.source, key: where.key, problem: 'needs matrix_id or email_address' });
  }
  return contact;
}

/** A support page may have a query or fragment, unlike a base URL. */
function expectBaseUrlOrPage(value: unknown, where: Where): string {
  if (typeof value === 'string') {
    try {
      const url = new URL(value);
      if (url.protocol === 'https:' || url.protocol === 'http:') return value;
    } catch {
      // Falls through to the error below.
    }
  }
  return expectBaseUrl(value, where);
}

/**
 * What /.well-known/matrix/support answers, or undefined for its 404 ("No server support
 * information available"): the `support:` section, completed from `admin_contact` (a mailto:
 * becomes an m.role.admin contact, an https: page the support page) when the section lacks it.
 */
export function supportDocument(support: SupportConfig | undefined, adminContact: string | undefined): Record<string, unknown> | undefined {
  const contacts = [...(support?.contacts ?? [])];
  let page = support?.supportPage;
  if (adminContact !== undefined) {
    if (adminContact.startsWith('mailto:')) {
      const email = decodeURIComponent(adminContact.slice('mailto:'.length).split('?')[0]!);
      if (!contacts.some((c) => c.emailAddress === email)) contacts.push({ role: 'm.role.admin', emailAddress: email });
    } else if (page === undefined) {
      page = adminContact;
    }
  }
  if (contacts.length === 0 && page === undefined) return undefined;
  const doc: Record<string, unknown> = {};
  if (contacts.length > 0) {
    doc.contacts = contacts.map((c) => ({
      ...(c.matrixId !== undefined ? { matrix_id: c.matrixId } : {}),
      ...(c.emailAddress !== undefined ? { email_address: c.emailAddress } : {}),
      role: c.role,
    }));
  }
  if (page !== undefined) doc.support_page = page;
  return doc;
}
