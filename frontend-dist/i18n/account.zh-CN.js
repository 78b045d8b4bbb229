// 简体中文 — choosing one's own password (issue 19 item 12).
export default {
  'pw.title': '请设置您自己的密码',
  'pw.intro': '您使用的是管理员发放的临时密码。设置自己的密码后才能继续使用系统。',
  'pw.current': '临时密码',
  'pw.current_hint': '管理员告诉您的临时密码。',
  'pw.new': '新密码',
  'pw.rules': '至少 10 个字符，不能是常见密码，不能包含用户名。',
  'pw.again': '再次输入新密码',
  'pw.submit': '保存新密码',
  'pw.too_short': '新密码至少需要 10 个字符。',
  'pw.mismatch': '两次输入的新密码不一致。',
  'pw.wrong_current': '临时密码不正确。',
  'pw.refused': '这个密码太常见或包含用户名，请换一个。',
  'pw.done': '密码已更新。',
  'err.password_change_required': '请先设置您自己的密码。',
};
