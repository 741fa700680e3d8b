//! The few icons the dashboard uses, inline so they cost no request and follow the text colour.

interface IconProps {
  size?: number;
}

function svg(size: number, children: React.ReactNode, label?: string) {
  return (
    <svg
      width={size}
      height={size}
      viewBox="0 0 24 24"
      fill="none"
      stroke="currentColor"
      strokeWidth={2}
      strokeLinecap="round"
      strokeLinejoin="round"
      aria-hidden={label ? undefined : true}
      role={label ? "img" : undefined}
      aria-label={label}
    >
      {children}
    </svg>
  );
}

export function Logo({ size = 28 }: IconProps) {
  return (
    <svg width={size} height={size} viewBox="0 0 32 32" aria-hidden="true" className="logo">
      <defs>
        <linearGradient id="wr-logo" x1="0" y1="0" x2="1" y2="1">
          <stop offset="0" stopColor="#8b7bff" />
          <stop offset="1" stopColor="#5b4cf0" />
        </linearGradient>
      </defs>
      <rect width="32" height="32" rx="9" fill="url(#wr-logo)" />
      <rect x="7.5" y="9" width="4.5" height="14" rx="1.6" fill="#fff" />
      <rect x="13.75" y="9" width="4.5" height="9.5" rx="1.6" fill="#fff" opacity=".85" />
      <rect x="20" y="9" width="4.5" height="6" rx="1.6" fill="#fff" opacity=".7" />
    </svg>
  );
}

export const PlusIcon = ({ size = 16 }: IconProps) => svg(size, <path d="M12 5v14M5 12h14" />);
export const CloseIcon = ({ size = 16 }: IconProps) => svg(size, <path d="M18 6 6 18M6 6l12 12" />);
export const TrashIcon = ({ size = 16 }: IconProps) => svg(size, <path d="M3 6h18M8 6V4h8v2m-9 0 1 14h8l1-14" />);
export const BotIcon = ({ size = 14 }: IconProps) =>
  svg(
    size,
    <>
      <rect x="4" y="8" width="16" height="12" rx="3" />
      <path d="M12 4v4M9 13h.01M15 13h.01M9.5 17h5" />
    </>,
  );
export const HandIcon = ({ size = 14 }: IconProps) =>
  svg(
    size,
    <path d="M8 13V5.5a1.5 1.5 0 0 1 3 0V12m0-6.5v-1a1.5 1.5 0 0 1 3 0V12m0-5.5a1.5 1.5 0 0 1 3 0V14a6 6 0 0 1-6 6h-1a6 6 0 0 1-5-2.7L3.4 14a1.5 1.5 0 0 1 2.5-1.7L8 15" />,
  );
export const KeyboardIcon = ({ size = 16 }: IconProps) =>
  svg(
    size,
    <>
      <rect x="2" y="6" width="20" height="12" rx="2" />
      <path d="M6 10h.01M10 10h.01M14 10h.01M18 10h.01M7 14h10" />
    </>,
  );
export const PulseIcon = ({ size = 16 }: IconProps) => svg(size, <path d="M3 12h4l3-8 4 16 3-8h4" />);
export const UsersIcon = ({ size = 16 }: IconProps) =>
  svg(
    size,
    <>
      <circle cx="9" cy="8" r="3.5" />
      <path d="M2.5 20a6.5 6.5 0 0 1 13 0M16 4.5a3.5 3.5 0 0 1 0 7M21.5 20a6.5 6.5 0 0 0-4-6" />
    </>,
  );
export const LogoutIcon = ({ size = 16 }: IconProps) =>
  svg(size, <path d="M15 4h3a2 2 0 0 1 2 2v12a2 2 0 0 1-2 2h-3M10 17l-5-5 5-5M5 12h11" />);
export const CommentIcon = ({ size = 14 }: IconProps) =>
  svg(size, <path d="M21 12a8 8 0 0 1-11.6 7.1L4 20l1-4.6A8 8 0 1 1 21 12Z" />);
export const BellIcon = ({ size = 16 }: IconProps) =>
  svg(size, <path d="M6 8a6 6 0 0 1 12 0c0 7 3 9 3 9H3s3-2 3-9M10.3 21a1.9 1.9 0 0 0 3.4 0" />);
export const FilterIcon = ({ size = 14 }: IconProps) => svg(size, <path d="M3 5h18l-7 8v6l-4 1v-7Z" />);
