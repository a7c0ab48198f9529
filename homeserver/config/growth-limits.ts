// Bounds on what one user can make the server keep (issue #13, class 3: unbounded growth). Each
// default is sized for a family server with generous headroom over real use, and far below what
// would fill a laptop's disk or memory. createHomeserver takes overrides (tests use small ones);
// they are not config-file keys: nobody running Hearth for a household should need to tune them.

export interface GrowthLimits {
  /** Messages waiting for one device (modules/send_to_device.md): beyond, new ones are refused. */
  toDevicePendingPerDevice: number;
  /** Bytes of message content waiting for one device. */
  toDevicePendingBytesPerDevice: number;
  /** Share of one device's queue (count and bytes) that a single sender may fill, so that others still reach it. */
  toDeviceSenderShare: number;
  /** Devices one /sendToDevice request (or federation EDU) may deliver to, after `*` is expanded. */
  toDeviceDevicesPerRequest: number;
  /** Bytes of one account-data item (global, per room, or the m.tag list of a room). */
  accountDataItemBytes: number;
  /** Account-data items (global and per room together) one user may keep. */
  accountDataItemsPerUser: number;
  /** Bytes of all of one user's account data together. */
  accountDataBytesPerUser: number;
}

export const DEFAULT_GROWTH_LIMITS: GrowthLimits = {
  // A device offline for weeks in a busy encrypted account receives a few hundred room keys and
  // key requests; 10,000 is far above that. Synapse keeps no such cap; we refuse rather than drop.
  toDevicePendingPerDevice: 10_000,
  // Olm-encrypted room keys are 1-2 kB each: 10,000 of them fit in 16 MiB.
  toDevicePendingBytesPerDevice: 16 * 1024 * 1024,
  // Half: one sender (an attacker, or a looping client) can never shut a device's queue for everyone.
  toDeviceSenderShare: 0.5,
  // Sharing a room key with every device of a 1,000-device room takes several requests
  // (matrix-rust-sdk sends at most 250 messages per request); 1,000 leaves room for `*`.
  toDeviceDevicesPerRequest: 1_000,
  // Push rules, m.direct of a few hundred contacts and secret storage fit in a few kB; 64 KiB is
  // what Synapse's `max_event_size` leaves an event's content, a fair size for one item.
  accountDataItemBytes: 64 * 1024,
  // m.fully_read, m.tag and a client setting or two per room, for a 5,000-room account (issue #9
  // measures accounts of 2,000), plus the globals; the byte total below is the tighter bound.
  accountDataItemsPerUser: 20_000,
  // Well above real use (tens of kB), well below a disk-filling amount.
  accountDataBytesPerUser: 16 * 1024 * 1024,
};
