import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

// The REST contract of GET /api/archives/:id/restore.

export class RestoreBundleView {
  @ApiProperty({ description: 'Presigned GET of the bundle' })
  url!: string;

  @ApiProperty({ enum: ['full', 'incremental'], description: 'The first is full; each increment needs the ones before it' })
  kind!: 'full' | 'incremental';

  @ApiProperty({ format: 'uuid', description: 'The snapshot that stored this bundle' })
  archiveId!: string;

  @ApiProperty()
  size!: number;

  @ApiProperty({ description: 'sha256 of the bundle file' })
  sha256!: string;
}

export class RestoreRefView {
  @ApiProperty({ example: 'refs/heads/main' })
  ref!: string;

  @ApiPropertyOptional({ description: 'The exact name bytes when they are not valid UTF-8' })
  refBase64?: string;

  @ApiProperty()
  sha!: string;
}

export class RestoreLfsObjectView {
  @ApiProperty({ description: 'sha256 of the object (Git LFS oid)' })
  oid!: string;

  @ApiProperty()
  size!: number;

  @ApiProperty({ description: 'Presigned GET of the object' })
  url!: string;
}

export class RestorePlanView {
  @ApiProperty({ format: 'uuid' })
  archiveId!: string;

  @ApiProperty({ description: 'How long the bundle links stay valid', example: 3600 })
  expiresInSeconds!: number;

  @ApiProperty({ type: [RestoreBundleView], description: 'Apply in this order with `git bundle unbundle`' })
  bundles!: RestoreBundleView[];

  @ApiProperty({
    type: [RestoreRefView],
    description: 'Every ref of the snapshot: set them after the bundles (increments leave out refs that did not move)',
  })
  refs!: RestoreRefView[];

  @ApiProperty({ type: String, nullable: true, description: 'The branch HEAD names', example: 'refs/heads/main' })
  headBranch!: string | null;

  @ApiProperty({
    type: [RestoreLfsObjectView],
    description:
      'The Git LFS objects the snapshot stored: put each at `<repo>.git/lfs/objects/<oid[0:2]>/<oid[2:4]>/<oid>` (the script does)',
  })
  lfsObjects!: RestoreLfsObjectView[];

  @ApiProperty({ description: 'A POSIX sh script (curl + git) that does all of the above: `sh restore.sh [directory]`' })
  script!: string;
}
