/**
 * Every text the web pages show, in one place. A second language is one more object of type
 * `Texts` in `catalogues` (the compiler checks that no text is missing); pages pick the
 * catalogue from the Accept-Language header.
 */
const en = {
  lang: 'en',
  locale: 'en-GB',
  product: 'Prepaid calling',
  skip: 'Skip to content',
  nav: { label: 'Main', home: 'Home', calls: 'Calls', security: 'PIN and password', callerIds: 'Caller IDs', devices: 'SIP devices', topups: 'Top-ups', privacy: 'Privacy', logout: 'Log out' },
  consoleNav: { label: 'Console', dashboard: 'Dashboard', accounts: 'Accounts', cliRequests: 'Caller-ID requests', calls: 'Live calls', accessSessions: 'Access-number sessions', tariffs: 'Tariffs', routing: 'Carriers and access numbers', logout: 'Log out' },
  common: {
    save: 'Save', yes: 'yes', no: 'no', none: 'None.', remove: 'Remove', search: 'Search', next: 'Next page', first: 'First page',
    status: 'Status', actions: 'Actions', created: 'Created', when: 'When', amount: 'Amount', balanceAfter: 'Balance after', reference: 'Reference', reason: 'Reason',
    confirm: 'Are you sure?', error: 'Something went wrong. Please try again.', badRequest: 'The request could not be understood. Go back and try again.', notFound: 'Page not found.', backHome: 'Go to the home page',
    csrf: 'This form has expired. Please reload the page and try again.', unavailable: 'Not shown: the service does not record it.',
    liveHint: 'Updates live without reloading.', live: 'live',
  },
  login: {
    title: 'Log in', intro: 'Log in with your account username and password.', username: 'Username', password: 'Password', submit: 'Log in',
    failed: 'Login failed. Check your username and password, or wait a few minutes and try again.',
    loggedOut: 'You have logged out.',
  },
  home: {
    title: 'Your account', account: 'Account number', balance: 'Balance', available: 'Available to spend', reserved: 'Held for calls in progress',
    callsInProgress: 'Calls in progress', lastCalls: 'Last calls', noCalls: 'No calls yet.', allCalls: 'All calls', status: 'Account status',
    liveNumber: 'Number dialled', liveState: 'State', liveSince: 'Since', ringing: 'Ringing', answered: 'Talking', noLiveCalls: 'None right now.',
  },
  calls: {
    title: 'Call history', from: 'From (date)', to: 'To (date, inclusive)', number: 'Number (dialled or caller ID)', filter: 'Show calls', csv: 'Download CSV',
    start: 'Start', dialled: 'Number dialled', cli: 'Caller ID', duration: 'Duration', cost: 'Cost', result: 'Result', none: 'No calls match.',
    badFilter: 'Check the filter: dates as YYYY-MM-DD and the number as digits (an optional leading +).', caption: 'Calls, newest first',
  },
  security: {
    title: 'PIN and password', pinTitle: 'Change your PIN', pinIntro: 'Prove it is you with your current PIN or your password, and we give you a new random PIN. Numbers you registered from a call with the old PIN stop calling without one.',
    currentPin: 'Current PIN', orPassword: 'or your password', pinSubmit: 'Get a new PIN',
    newPinIs: 'Your new PIN is', pinOnce: 'Write it down now: it is shown only this once. Your old PIN no longer works.',
    pwTitle: 'Change your password', currentPassword: 'Current password', newPassword: 'New password (at least 10 characters)', pwSubmit: 'Change password',
    pwChanged: 'Your password has been changed. Your other sessions have ended.', wrong: 'The current PIN or password is wrong.',
    badPassword: 'The new password must have at least 10 characters.', passwordRule: 'At least 10 characters; not a common password, a run like abcdefghij, or one character repeated.',
  },
  callerIds: {
    title: 'Caller IDs', intro: 'Phones whose number is registered here can call the access numbers without a PIN. A new number is checked and approved by our staff before it works.',
    authorised: 'Approved numbers', pending: 'Waiting for approval', number: 'Phone number (international format, e.g. +447700900123)', add: 'Ask to add this number',
    requested: 'Requested', verified: 'Approved', requestedOk: 'Your request was sent. The number works once our staff approve it.', removed: 'The number was removed.',
    withdraw: 'Withdraw', bad: 'Enter the number in international format: + then 7 to 15 digits.', refused: 'That number cannot be added.',
    fromCall: 'Registered from a call', confirm: 'Confirm', confirmed: 'The number is confirmed: it can call without a PIN.',
  },
  devices: {
    title: 'SIP devices', intro: 'Phones, adapters and apps log in to our SIP service with these usernames.', username: 'SIP username', realm: 'Domain',
    registered: 'Registered now', registeredFrom: 'Registered devices', userAgent: 'Device', expires: 'Until', notRegistered: 'Not registered',
    newPassword: 'New SIP password (at least 10 characters)', setPassword: 'Set password', passwordSet: 'The SIP password was changed. Enter it in your device.',
    none: 'You have no SIP devices. Ask us to set one up.', badPassword: 'The SIP password must have at least 10 characters.',
  },
  topups: {
    title: 'Top-ups', autoTitle: 'Automatic top-up', autoIntro: 'When your available credit falls below the threshold, we charge the amount to your saved payment method.',
    enabled: 'Automatic top-up on', threshold: 'Threshold', amountLabel: 'Top-up amount', token: 'Payment token from the payment page (leave empty to keep the saved one)',
    saved: 'Automatic top-up saved.', bad: 'Check the amounts (for example 5.00) and the payment token.', hasToken: 'Payment method saved', lastCharge: 'Last charge',
    history: 'Top-up history', none: 'No top-ups yet.', kind: 'Kind', lastResult: 'Last result', attempts: 'Recent charge attempts',
  },
  privacy: {
    title: 'Privacy', prefs: 'Marketing e-mails', prefsIntro: 'Choose which e-mails you want from us. You can change this at any time.',
    lists: { customer: 'News and offers for customers', potential_customer: 'Offers for new services' } as Record<string, string>,
    optedIn: 'Send me these', savedPrefs: 'Your preferences were saved.',
    rights: 'Your data', exportTitle: 'Download your data', exportIntro: 'One file with everything we hold about you (JSON).', exportButton: 'Download my data',
    restrictTitle: 'Restrict processing', restrictIntro: 'We stop marketing and use your data only where the law requires. You can also suspend your account while the restriction lasts.',
    restricted: 'Processing of your data is restricted.', suspendToo: 'Suspend my account as well', restrictButton: 'Restrict processing', liftButton: 'Lift the restriction',
    restrictedOk: 'Processing of your data is now restricted.', liftedOk: 'The restriction was lifted.',
    eraseTitle: 'Erase your data', eraseIntro: 'We delete your name, contact details, PINs, caller IDs, SIP devices and payment details, and close your account. Any remaining credit is lost.',
    keep: 'What the law requires us to keep: call records (time, numbers, duration, cost) are kept without your name for billing and legal reasons for up to 12 months, then deleted; accounting records of payments are kept as tax law requires.',
    erasePassword: 'Your password, to confirm', eraseButton: 'Erase my data and close my account', erased: 'Your data has been erased and your account closed.',
  },
  console: {
    loginTitle: 'Operator console', loginIntro: 'Log in with an operator API key. The console can do what the key\'s scopes allow.', key: 'API key', loginFailed: 'Login failed. Check the key.',
    dashboard: 'Dashboard', callsInProgress: 'Calls in progress', callsPerSecond: 'New calls per second (last 10 s)', ledgerPending: 'Ledger events not yet written', ledgerLag: 'Ledger writer lag (seconds)',
    activeAccounts: 'Accounts with calls in progress', lowAccounts: 'Accounts near their credit floor', noneActive: 'No calls in progress.',
    searchTitle: 'Accounts', searchBy: 'Search by', query: 'Search for', byNumber: 'Account number', byEmail: 'E-mail', byCli: 'Caller ID', bySip: 'SIP username',
    results: 'Results', noResults: 'No account matches.', number: 'Number', customer: 'Customer', currency: 'Currency',
    accountTitle: 'Account', customerData: 'Customer', name: 'Name', email: 'E-mail', address: 'Address', phones: 'Phone numbers', auditNote: 'Viewing these details is recorded in the audit log.',
    balance: 'Balance', available: 'Available', reserved: 'Reserved', topupTitle: 'Top up', topupAmount: 'Amount', topupDone: 'Top-up credited.',
    adjustTitle: 'Adjust', adjustAmount: 'Amount (negative to debit)', adjustReason: 'Reason', adjustDone: 'Adjustment applied.', badAmount: 'Check the amount and the reason.',
    pinTitle: 'PIN', pinIssue: 'Issue or rotate the PIN',
    compromised: 'Suspected compromise', compromisedIntro: 'Revokes the PIN, the caller IDs registered from calls with it and every self-care session. Caller IDs approved by staff stay.',
    compromisedDone: 'PIN, caller IDs registered from calls and sessions revoked.', pinIs: 'The new PIN is', pinOnce: 'It is shown only this once.', pinHistory: 'PIN history', revoked: 'Revoked',
    clisTitle: 'Caller IDs', addCli: 'Add an approved caller ID', cliAdded: 'Caller ID added.', cliRemoved: 'Caller ID removed.',
    devicesTitle: 'SIP devices', setSip: 'Set SIP username and password', sipUser: 'SIP username', sipPassword: 'SIP password', sipSet: 'SIP credentials saved.',
    callsTitle: 'Last calls', ledgerTitle: 'Ledger', statusTitle: 'Account status', suspend: 'Suspend', resume: 'Resume', close: 'Close the account', statusChanged: 'Status changed.',
    cliRequests: 'Caller-ID requests', approve: 'Approve', reject: 'Reject', account: 'Account', decided: 'Request decided.', noRequests: 'No requests waiting.',
    liveCalls: 'Live calls', callId: 'Call ID', state: 'State', started: 'Started', hangup: 'Hang up', hungUp: 'Hang-up sent.', reservedCol: 'Reserved',
    accessSessions: 'Access-number sessions', accessTotals: 'Access-leg time per access number and carrier (last 31 days)', accessRecent: 'Latest sessions',
    accessNote: 'Every call a carrier delivered to an access number, with or without a call placed. No cost to customers; for reconciling carriers\' invoices.',
    sessions: 'Sessions', legTime: 'Access-leg time', withoutCalls: 'Without a call', caller: 'Caller', outcome: 'Outcome', callsPlaced: 'Calls', pins: 'PINs keyed',
    tariffs: 'Tariffs', tariffId: 'Tariff ID', tariffName: 'Name', rates: 'Rates', download: 'Download CSV', upload: 'Upload a rate deck (CSV)', file: 'CSV file',
    uploaded: 'Tariff uploaded.', uploadErrors: 'The file was not imported. Fix these lines:', line: 'Line', problem: 'Problem',
    routing: 'Carriers and access numbers', carriers: 'Carriers', accessNumbers: 'Access numbers', gateways: 'Gateways', trusted: 'Trusted for caller ID', label: 'Label', language: 'Language', carrierId: 'Carrier', enabled: 'Enabled',
    forbidden: 'Your API key\'s scopes do not allow this.', notFound: 'Not found.',
  },
  problems: {
    ACCOUNT_CLOSED: 'The account is closed.', IDEMPOTENCY_CONFLICT: 'This request was already made with different values.', UNKNOWN_ACCOUNT: 'Unknown account.',
    FORBIDDEN: 'Not allowed.', UNKNOWN_CALL: 'The call has already ended.', CLI_TAKEN: 'That number belongs to another account.', VALIDATION_FAILED: 'Check the values entered.',
    TARIFF_CURRENCY_IN_USE: 'Accounts use this tariff: its currency cannot change. Upload it in its own currency.',
    TARIFF_CURRENCY_MISMATCH: 'That tariff is priced in another currency than the account.',
  } as Record<string, string>,
};

export type Texts = typeof en;

export const catalogues: Record<string, Texts> = { en };

/** The catalogue for a request: the first Accept-Language tag we have, else English. */
export function textsFor(acceptLanguage: string | undefined): Texts {
  for (const part of (acceptLanguage ?? '').split(',')) {
    const tag = part.split(';')[0]?.trim().toLowerCase().split('-')[0];
    if (tag && catalogues[tag]) return catalogues[tag];
  }
  return en;
}
