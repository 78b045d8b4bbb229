// Help for police liaisons (English, shorter).
export default {
  title: 'Help for police liaisons',
  intro: 'High-risk and imminent-danger cases alert your station. The board lists your alerts by deadline: acknowledge first, then record what was done.',
  sections: [
    { title: 'Alert board', screen: 'board', shot: 'police-board.png', alt: 'The alert board with one card per alert',
      paras: ['A new alert sounds (again every 30 s until acknowledged) and shows a notification.',
        'Acknowledge within 5 minutes (imminent) or 15 (high), or it climbs a level by itself; the card says why and when the next raise is. Record actions (no default; you confirm), then resolve.'] },
  ],
  missed: { title: 'A deadline was missed', paras: ['It has been raised, but acknowledge and act now anyway: the next level sees your record.'] },
};
