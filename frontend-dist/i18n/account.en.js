// English — choosing one's own password (issue 19 item 12).
export default {
  'pw.title': 'Choose your own password',
  'pw.intro': 'You signed in with a temporary password from an administrator. Choose your own to go on.',
  'pw.current': 'Temporary password',
  'pw.current_hint': 'The temporary password the administrator gave you.',
  'pw.new': 'New password',
  'pw.rules': 'At least 10 characters, not a common password, not containing your username.',
  'pw.again': 'New password again',
  'pw.submit': 'Save the new password',
  'pw.too_short': 'The new password needs at least 10 characters.',
  'pw.mismatch': 'The two new passwords differ.',
  'pw.wrong_current': 'The temporary password is not right.',
  'pw.refused': 'This password is too common or contains your username; choose another.',
  'pw.done': 'Your password was changed.',
  'err.password_change_required': 'Choose your own password first.',
};
